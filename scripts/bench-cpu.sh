#!/usr/bin/env bash
# Side-by-side CPU training throughput of the two reference networks of the
# CPU engine (issue 3): the Go engine (darts/bench_test.go:
# BenchmarkSearch5Train, BenchmarkEval20Train) and PyTorch's CPU path
# (scripts/bench_cpu_torch.py, 2 threads), same networks, batch 64, random
# 32x32 inputs, SGD momentum 0.9, weight decay 3e-4.
#
# Usage: scripts/bench-cpu.sh [STEPS]   (timed steps per network, default 5)
# Env:   PYTHON (default /usr/bin/python3), NETS (default "search5 eval20"),
#        THREADS (default 2): GOMAXPROCS of the Go side and torch.set_num_threads.
# PyTorch's OpenMP threads spin while waiting, which costs it far more than Go
# when other processes compete for the cores: run on a quiet machine (the
# load averages are printed), or compare THREADS=1 runs.
# Prints images/s of both and the ratio Go/PyTorch per network, the same for
# images per CPU-second (all threads of the process), and the load average
# before and after (the machine is shared: compare only side by side).
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${1:-5}
python=${PYTHON:-/usr/bin/python3}
nets=${NETS:-search5 eval20}
threads=${THREADS:-2}
export GOMAXPROCS=$threads

declare -A bench=([search5]=BenchmarkSearch5Train [eval20]=BenchmarkEval20Train)

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)   GOMAXPROCS=$GOMAXPROCS   steps=$steps"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/darts.test" ./darts/
printf '%-8s %12s %15s %7s   %14s %17s %7s\n' network "go images/s" "torch images/s" ratio "go images/cpu-s" "torch images/cpu-s" ratio
for net in $nets; do
	name=${bench[$net]:?unknown network $net}
	goline=$("$bin/darts.test" -test.run '^$' -test.bench "^${name}\$" -test.benchtime "${steps}x" | grep "^${name}")
	metric() { awk -v m="$1" '{for (i = 2; i <= NF; i++) if ($i == m) print $(i-1)}'; }
	goips=$(metric images/s <<<"$goline")
	gocpu=$(metric images/cpu-s <<<"$goline")
	pyline=$("$python" scripts/bench_cpu_torch.py "$net" --steps "$steps" --threads "$threads")
	pyips=$(awk '{print $4}' <<<"$pyline")
	pycpu=$(awk '{print $6}' <<<"$pyline")
	ratio=$(awk -v a="$goips" -v b="$pyips" 'BEGIN { printf "%.2f", a / b }')
	ratiocpu=$(awk -v a="$gocpu" -v b="$pycpu" 'BEGIN { printf "%.2f", a / b }')
	printf '%-8s %12s %15s %7s   %14s %17s %7s\n' "$net" "$goips" "$pyips" "${ratio}x" "$gocpu" "$pycpu" "${ratiocpu}x"
	echo "  go:    $goline" | tr -s ' \t' ' '
	echo "  torch: $pyline"
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
