#!/usr/bin/env bash
# gpu-check.sh — check the CUDA backend on a GPU machine that has no Go.
#
# Two halves:
#
#   scripts/gpu-check.sh build [OUT]   here, with Go: builds CGO_ENABLED=0
#                                      binaries into OUT (default bin/gpu-check):
#                                        cuda.test      parity tests (go test -c ./cuda)
#                                        gpubench.test  training benchmark (go test -c ./cuda/gpubench)
#                                        stages/*       the stage binaries (stripped)
#                                        bench_gpu_torch.py, torch_fixtures_darts.py
#   scripts/gpu-check.sh run [OUT]     on the GPU machine (CUDA 12 or 13 driver, cuDNN 9,
#                                      PyTorch in a Python env), from the repository root:
#                                        0. versions: the driver's CUDA version, the CUDA
#                                           major of the NVRTC/cuBLAS set and cuDNN's build
#                                           that were picked, each library's file, what
#                                           was skipped (stubs, newer majors), and whether
#                                           the kernels loaded as a cubin or as PTX
#                                        1. parity, with PERTNAS_CUDA_SYNC=1 (a sync and
#                                           check after every backend method, so a fault
#                                           names the method and shapes that caused it):
#                                           every backend op and a training step
#                                           on the GPU vs the CPU backend (1e-4 relative,
#                                           strict fp32; TF32 5e-3; fp16/bf16 mixed
#                                           precision at the tolerances of
#                                           cuda/precision_test.go); missing GPU/library
#                                           = failure
#                                        2. deterministic repeat: two training runs with
#                                           --deterministic's options on fresh backends
#                                           must give the same bits (fp32, and TF32 with
#                                           cuDNN's depthwise algorithms)
#                                        3. benchmark: training images/s of the PertNAS
#                                           search network (batch 256) and the CIFAR eval
#                                           network (batch 128), Go (tf32 and fp16 mixed
#                                           precision) vs PyTorch (eager fp32/TF32, and
#                                           channels_last + AMP fp16) on the same GPU,
#                                           and the ratios
#   scripts/gpu-check.sh all [OUT]     both, on one machine with Go and a GPU.
#
# The run half finishes within 6 minutes: every step is bounded with timeout
# (versions 30 s, parity 90 s, deterministic repeat 60 s, Go benchmark 100 s,
# PyTorch benchmark 100 s). Exit status: 0 when the versions, parity and
# deterministic steps passed, 1 otherwise (benchmark failures are reported,
# not fatal).
#
# Environment:
#   PERTNAS_CUDA_LIB_DIR  folder(s) holding libcuda/libcublas/libcudnn/libnvrtc, if
#                         the search (LD_LIBRARY_PATH, python site-packages/nvidia/*/lib,
#                         system folders) does not find them
#   PYTHON                the python with torch (default: python3 on PATH)
#   PERTNAS_BENCH_PRECISIONS  precisions of the Go benchmark (default "tf32 fp16":
#                         TF32 as PyTorch's cuDNN default, fp16 as PertNAS's AMP)
#   PERTNAS_BENCH_DEPTHWISE  auto (default) | kernel | cudnn: depthwise convolutions in
#                         the Go benchmark (auto times both per shape, keeps the faster)
#   BENCH_STEPS           timed training steps per network (default 20)
#   GPU_CHECK_STAGES      0 = build: leave out the stage binaries (they are most of
#                         the folder's ~50 MB; the run half does not use them)
#
# With the agent device tool: run "scripts/gpu-check.sh build" here, then
# run(command="scripts/gpu-check.sh run", carry=["bin/gpu-check"]).
set -uo pipefail

mode=${1:-}
out=${2:-bin/gpu-check}
steps=${BENCH_STEPS:-20}

build() {
	set -e
	mkdir -p "$out/stages"
	export CGO_ENABLED=0
	go test -c -ldflags='-s -w' -o "$out/cuda.test" ./cuda
	go test -c -ldflags='-s -w' -o "$out/gpubench.test" ./cuda/gpubench
	for d in stages/*/; do
		[ "${GPU_CHECK_STAGES:-1}" = 0 ] && break
		s=$(basename "$d")
		if ! go build -ldflags='-s -w' -o "$out/stages/$s" "./stages/$s"; then
			echo "gpu-check: stage $s does not build" >&2
			exit 1
		fi
	done
	cp scripts/bench_gpu_torch.py scripts/torch_fixtures_darts.py "$out/"
	set +e
	du -sh "$out"
	echo "gpu-check: built into $out (CGO_ENABLED=0)"
}

# images_per_s prints the images/s metric of a Go benchmark line.
images_per_s() {
	awk -v name="$1" '$1 ~ "^"name"(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == "images/s") print $i }'
}

run() {
	for f in cuda.test gpubench.test bench_gpu_torch.py; do
		if [ ! -e "$out/$f" ]; then
			echo "gpu-check: $out/$f missing: run 'scripts/gpu-check.sh build' first" >&2
			exit 1
		fi
	done
	nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "gpu-check: nvidia-smi not available"
	py=${PYTHON:-python3}
	status=0

	echo "== versions (libraries picked for the driver, kernel image)"
	if ! PERTNAS_REQUIRE_GPU=1 timeout -k 5 30 "$out/cuda.test" -test.v -test.count 1 -test.timeout 25s \
		-test.run 'LibraryVersions' | grep -E 'versions:|usable|FAIL|ok|PASS'; then
		echo "gpu-check: VERSIONS FAILED" >&2
		status=1
	fi

	echo "== parity with PERTNAS_CUDA_SYNC=1 (GPU vs CPU backend: every op in fp32 at 1e-4, TF32, fp16 and bf16; training stages end to end)"
	if ! PERTNAS_CUDA_SYNC=1 PERTNAS_REQUIRE_GPU=1 timeout -k 5 90 "$out/cuda.test" -test.v -test.count 1 -test.timeout 85s \
		-test.run 'Symbols|Available|Parity|Compare' -test.skip 'ParityDeterministic'; then
		echo "gpu-check: PARITY FAILED" >&2
		status=1
	fi

	echo "== deterministic repeat (two runs, same bits)"
	if ! PERTNAS_REQUIRE_GPU=1 timeout -k 5 60 "$out/cuda.test" -test.v -test.count 1 -test.timeout 55s \
		-test.run 'ParityDeterministic'; then
		echo "gpu-check: DETERMINISTIC REPEAT FAILED" >&2
		status=1
	fi

	echo "== benchmark: pertnas (Go, cuda backend)"
	gofile=$(mktemp)
	timeout -k 5 100 "$out/gpubench.test" -test.v -test.run '^$' -test.bench . -test.benchtime "${steps}x" -test.timeout 95s | tee "$gofile"

	echo "== benchmark: PyTorch ($py)"
	pyfile=$(mktemp)
	timeout -k 5 100 "$py" "$out/bench_gpu_torch.py" --steps "$steps" | tee "$pyfile"

	echo "== summary (training images/s; ratio = pertnas / PyTorch)"
	for pair in "search5:BenchmarkSearch5Train" "eval20:BenchmarkEval20Train"; do
		net=${pair%%:*}
		bench=${pair#*:}
		# Like against like: tf32 vs PyTorch eager, fp16 vs channels_last + AMP.
		for cmp in "tf32:eager" "fp16:channels_last_amp"; do
			prec=${cmp%%:*}
			m=${cmp#*:}
			ours=$(images_per_s "$bench/$prec" <"$gofile")
			theirs=$(awk -v n="$net" -v m="$m" '$1 == "RESULT" && $2 == "net="n && $3 == "mode="m { sub("images_per_s=", "", $4); print $4 }' "$pyfile")
			if [ -n "$ours" ] && [ -n "$theirs" ]; then
				awk -v n="$net" -v p="$prec" -v m="$m" -v a="$ours" -v b="$theirs" \
					'BEGIN { printf "%-8s pertnas %-5s %9.1f   torch %-18s %9.1f   ratio %.2f\n", n, p, a, m, b, a / b }'
			else
				echo "$net: missing result (pertnas $prec '${ours}', torch $m '${theirs}')"
			fi
		done
	done
	rm -f "$gofile" "$pyfile"
	return $status
}

case $mode in
build) build ;;
run) run; exit $? ;;
all) build && { run; exit $?; } ;;
*)
	sed -n '2,60p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
