#!/usr/bin/env bash
# CI step: the avx2 kernel path gives the bits of a machine without AVX-512.
# Trains one short epoch (DARTS_V2, smoke network, 64 synthetic images, one
# thread) twice: natively with --kernels avx2, and under qemu-x86_64 (user
# mode), whose CPU has AVX2 and FMA but no AVX-512, with --kernels auto. Under
# QEMU any AVX-512 instruction would stop the program (SIGILL), and auto must
# pick avx2; both runs must write the same model.safetensors bytes and
# record avx2 in result.json. Then the image kernels (loader/imgkern): their
# tests, which compare every path the CPU runs with the Go forms, and the
# loader's tests against PIL's pixels run under QEMU, where the paths must
# be purego and avx2 (PERTNAS_IMGKERN=avx512 must be refused). Installs Debian's qemu-user when missing and
# this runs as root with apt; skips with a message on a CPU without AVX2,
# off amd64, or when QEMU cannot be had. Run from the repository root; about
# 1-4 minutes (the QEMU run is emulated; more with the install).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(go env GOARCH)" != amd64 ] || ! grep -qw avx2 /proc/cpuinfo || ! grep -qw fma /proc/cpuinfo; then
	echo "kernels-qemu.sh: SKIP: needs an amd64 CPU with AVX2 and FMA"
	exit 0
fi
if ! command -v qemu-x86_64 >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "kernels-qemu.sh: installing qemu-user (apt-get)"
		if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null; }; then
			echo "kernels-qemu.sh: SKIP: apt-get could not install qemu-user"
			exit 0
		fi
	else
		echo "kernels-qemu.sh: SKIP: qemu-x86_64 is not installed and cannot be (needs root and apt-get)"
		exit 0
	fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/bin/" ./stages/train-eval ./stages/convert-cifar
CGO_ENABLED=0 go test -c -o "$tmp/bin/imgkern.test" ./loader/imgkern
CGO_ENABLED=0 go test -c -o "$tmp/bin/loader.test" ./loader
"$tmp/bin/convert-cifar" synth --out "$tmp/synth.tar.gz" --train 64 --test 32 2>/dev/null
"$tmp/bin/convert-cifar" convert --src "$tmp/synth.tar.gz" --out "$tmp/data" 2>/dev/null
run() { # run OUT KERNELS [WRAPPER...]: train-eval into $tmp/OUT, run by WRAPPER if any
	local out=$1 kernels=$2
	shift 2
	"$@" "$tmp/bin/train-eval" --genotype DARTS_V2 --data "$tmp/data" --preset smoke --epochs 1 \
		--limit-train 64 --limit-test 32 --batch-size 16 --device cpu --threads 1 --kernels "$kernels" --out "$tmp/$out"
}
run native avx2 2>"$tmp/native.log" || { cat "$tmp/native.log"; exit 1; }
# QEMU's "max" CPU: every feature its emulator has, which includes AVX2 and
# FMA and no AVX-512.
if ! qemu-x86_64 -cpu max /bin/true 2>/dev/null; then
	echo "kernels-qemu.sh: SKIP: qemu-x86_64 cannot run programs here"
	exit 0
fi
run qemu auto qemu-x86_64 -cpu max 2>"$tmp/qemu.log" || { cat "$tmp/qemu.log"; exit 1; }
for r in native qemu; do
	if ! grep -q '"kernels": "avx2"' "$tmp/$r/result.json"; then
		echo "kernels-qemu.sh: FAIL: the $r run did not record kernels avx2:"
		grep kernels "$tmp/$r/result.json" || true
		exit 1
	fi
done
if ! cmp -s "$tmp/native/model.safetensors" "$tmp/qemu/model.safetensors"; then
	echo "kernels-qemu.sh: FAIL: --kernels avx2 here and a CPU without AVX-512 (QEMU) trained different weights"
	sha256sum "$tmp"/{native,qemu}/model.safetensors
	exit 1
fi
echo "kernels-qemu.sh: ok: --kernels avx2 and a CPU without AVX-512 (QEMU) wrote the same model.safetensors ($(sha256sum <"$tmp/native/model.safetensors" | cut -c1-16))"

# The image kernels: their tests run every supported path against the Go
# forms; TestSaturateLumaPaths logs the paths.
if ! qemu-x86_64 -cpu max "$tmp/bin/imgkern.test" -test.run 'Paths|EnvPath' -test.v >"$tmp/imgkern.log" 2>&1; then
	cat "$tmp/imgkern.log"
	echo "kernels-qemu.sh: FAIL: loader/imgkern's tests under QEMU (a CPU without AVX-512)"
	exit 1
fi
if ! grep -q 'paths \[purego avx2\],' "$tmp/imgkern.log"; then
	echo "kernels-qemu.sh: FAIL: loader/imgkern under QEMU did not run exactly the purego and avx2 paths:"
	grep 'paths' "$tmp/imgkern.log" || true
	exit 1
fi
if PERTNAS_IMGKERN=avx512 qemu-x86_64 -cpu max "$tmp/bin/imgkern.test" -test.run '^$' >/dev/null 2>&1; then
	echo "kernels-qemu.sh: FAIL: PERTNAS_IMGKERN=avx512 was accepted on a CPU without AVX-512 (QEMU)"
	exit 1
fi
# The loader's resize and jitter on every path against PIL's pixels (the
# committed fixtures) and the per-pixel reference, run in loader/ for its
# testdata.
if ! (cd loader && qemu-x86_64 -cpu max "$tmp/bin/loader.test" -test.run 'TestColorJitterMatchesPIL|TestBilinearMatchesPIL|TestJitterMatchesReference' -test.v) >"$tmp/loader.log" 2>&1; then
	cat "$tmp/loader.log"
	echo "kernels-qemu.sh: FAIL: the loader's PIL tests under QEMU (a CPU without AVX-512)"
	exit 1
fi
if ! grep -q -- '--- PASS: TestColorJitterMatchesPIL/avx2' "$tmp/loader.log"; then
	echo "kernels-qemu.sh: FAIL: the loader's PIL tests under QEMU did not run the avx2 path"
	exit 1
fi
echo "kernels-qemu.sh: ok: loader/imgkern's avx2 kernels equal the Go forms and PIL's pixels on a CPU without AVX-512 (QEMU)"
