#!/usr/bin/env bash
# nvrtc.sh — compile the CUDA backend's kernel source with the real NVRTC.
#
# No GPU is needed: Debian's non-free component ships libnvrtc11.2 (NVRTC
# 11.8). As root with apt, this script enables contrib/non-free in a second
# sources file that repeats the URIs and suites of the existing Debian entry,
# installs the library, and runs TestRealNVRTC (./cuda), which compiles the
# embedded kernels for compute_70..compute_90 and, where NVRTC 11.8 can, to
# sm_XX cubins. Where the library cannot be installed it says why and skips
# (exit 0); a compile failure exits 1. Runs from the repository root; about
# one minute after the packages are downloaded.
set -uo pipefail
cd "$(dirname "$0")/../.."

have_nvrtc() {
	ldconfig -p 2>/dev/null | grep -q 'libnvrtc\.so' || ls /usr/lib/x86_64-linux-gnu/libnvrtc.so* >/dev/null 2>&1
}

install_nvrtc() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "nvrtc.sh: not root or no apt-get: cannot install libnvrtc11.2"
		return 1
	fi
	local src=/etc/apt/sources.list.d/pertnas-nonfree.sources
	if [ ! -e "$src" ]; then
		# The first deb822 stanza whose URIs end in /debian (not -security):
		# its URIs and Suites, with the contrib and non-free components.
		local entry
		entry=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
			/^[[:space:]]*$/ { if (u != "" && s != "" && !done) { print u; print s; done = 1 } u = ""; s = ""; next }
			/^URIs:/ && $2 ~ /\/debian\/?$/ { u = $0 }
			/^Suites:/ { s = $0 }
			END { if (u != "" && s != "" && !done) { print u; print s } }')
		if [ -z "$entry" ] && [ -r /etc/apt/sources.list ]; then
			# One-line format: deb URI SUITE main ...
			entry=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { u = $2; s = s " " $3 } END { if (u != "") { print "URIs: " u; print "Suites:" s } }' /etc/apt/sources.list)
		fi
		if [ -z "$entry" ]; then
			echo "nvrtc.sh: no Debian entry found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
			return 1
		fi
		key=""
		[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] && key="Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
		printf 'Types: deb\n%s\nComponents: contrib non-free\n%s\n' "$entry" "$key" >"$src"
	fi
	apt-get update -qq >/dev/null 2>&1 || { echo "nvrtc.sh: apt-get update failed"; return 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnvrtc11.2 >/dev/null 2>&1 ||
		{ echo "nvrtc.sh: apt-get install libnvrtc11.2 failed"; return 1; }
}

if ! have_nvrtc && ! install_nvrtc; then
	echo "nvrtc.sh: SKIP: libnvrtc is not installed and could not be installed"
	exit 0
fi
go test -count=1 -run 'TestRealNVRTC' -v ./cuda 2>&1 | tail -n 40
exit "${PIPESTATUS[0]}"
