#!/usr/bin/env bash
# turbojpeg.sh — run the loader's libjpeg-turbo path (issue 17) for real.
#
# As root with apt, installs Debian's libturbojpeg0 when it is missing, then
# runs the tests of loader/turbojpeg and the loader's JPEG tests with
# PERTNAS_REQUIRE_TURBOJPEG=1, so that a test that would skip for want of the
# library fails instead: PIL's pixels byte for byte on the fixtures, no
# allocation per decoded batch, both decoders forced in turn. Then it runs
# the loader's tests once more with the library disabled
# (PERTNAS_TURBOJPEG=off: the pure-Go fallback). Where the library cannot be
# installed it says why and exits 0; a test failure exits 1. Runs from the
# repository root; under a minute once the package is downloaded.
set -uo pipefail
cd "$(dirname "$0")/../.."

have_lib() {
	ldconfig -p 2>/dev/null | grep -q 'libturbojpeg\.so\.0' || ls /usr/lib/*/libturbojpeg.so.0 >/dev/null 2>&1
}

if ! have_lib; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "turbojpeg.sh: SKIP: libturbojpeg0 is not installed and this is not root with apt-get"
		exit 0
	fi
	echo "turbojpeg.sh: installing libturbojpeg0"
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libturbojpeg0; } >/tmp/turbojpeg-apt.log 2>&1; then
		echo "turbojpeg.sh: SKIP: apt-get could not install libturbojpeg0:"
		tail -5 /tmp/turbojpeg-apt.log
		exit 0
	fi
	if ! have_lib; then
		echo "turbojpeg.sh: SKIP: libturbojpeg0 installed but libturbojpeg.so.0 not found"
		exit 0
	fi
fi

rc=0
echo "turbojpeg.sh: libjpeg-turbo path"
PERTNAS_REQUIRE_TURBOJPEG=1 go test -count=1 ./loader/turbojpeg/ || rc=1
PERTNAS_REQUIRE_TURBOJPEG=1 go test -count=1 -run 'PIL|Decode|JPEG|Allocs|ImageNet' ./loader/ || rc=1
echo "turbojpeg.sh: pure-Go fallback (PERTNAS_TURBOJPEG=off)"
PERTNAS_TURBOJPEG=off go test -count=1 -run 'PIL|Decode|JPEG|ImageNet' ./loader/ || rc=1
exit $rc
