#!/usr/bin/env bash
# Side-by-side CPU training throughput of the two reference networks of the
# CPU engine (issue 3): the Go engine (darts/bench_test.go:
# BenchmarkSearch5Train, BenchmarkEval20Train) and PyTorch's CPU path
# (scripts/bench_cpu_torch.py, 2 threads), same networks, batch 64, random
# 32x32 inputs, SGD momentum 0.9, weight decay 3e-4.
#
# Usage: scripts/bench-cpu.sh [STEPS]   (timed steps per network and run, default 5)
# Env:   PYTHON (default /usr/bin/python3), NETS (default "search5 eval20"),
#        THREADS (default 2): GOMAXPROCS of the Go side and torch.set_num_threads,
#        REPEATS (default 3): runs of each side, interleaved (go, torch, go, ...).
# PyTorch's OpenMP threads spin while waiting, which costs it far more than Go
# when other processes compete for the cores: run on a quiet machine (the
# load averages are printed), or compare THREADS=1 runs. The host may also be
# shared with other machines: a run during which a neighbour takes the cores
# loses up to a third of its speed, so each side runs REPEATS times,
# interleaved, and the table compares the medians and the best runs (every
# run is printed below it).
# Prints images/s of both and the ratio Go/PyTorch per network, the same for
# images per CPU-second (all threads of the process), and the load average
# before and after (the machine is shared: compare only side by side).
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${1:-5}
python=${PYTHON:-/usr/bin/python3}
nets=${NETS:-search5 eval20}
threads=${THREADS:-2}
repeats=${REPEATS:-3}
export GOMAXPROCS=$threads

declare -A bench=([search5]=BenchmarkSearch5Train [eval20]=BenchmarkEval20Train)

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)   GOMAXPROCS=$GOMAXPROCS   steps=$steps   repeats=$repeats"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/darts.test" ./darts/

# metric NAME: the number before the word NAME in a line of "value unit" pairs.
metric() { awk -v m="$1" '{for (i = 2; i <= NF; i++) if ($i == m) print $(i-1)}'; }
# median, best: the median and the largest of the numbers on standard input.
median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.4g\n", (v[NR/2] + v[NR/2+1]) / 2}'; }
best() { sort -g | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

printf '%-16s %12s %15s %7s   %14s %17s %7s\n' network "go images/s" "torch images/s" ratio "go images/cpu-s" "torch images/cpu-s" ratio
for net in $nets; do
	name=${bench[$net]:?unknown network $net}
	golines=() pylines=()
	for ((r = 0; r < repeats; r++)); do
		golines+=("$("$bin/darts.test" -test.run '^$' -test.bench "^${name}\$" -test.benchtime "${steps}x" | grep "^${name}" | tr -s ' \t' ' ')")
		pylines+=("$("$python" scripts/bench_cpu_torch.py "$net" --steps "$steps" --threads "$threads")")
	done
	for stat in median best; do
		goips=$(printf '%s\n' "${golines[@]}" | metric images/s | $stat)
		gocpu=$(printf '%s\n' "${golines[@]}" | metric images/cpu-s | $stat)
		pyips=$(printf '%s\n' "${pylines[@]}" | awk '{print $4}' | $stat)
		pycpu=$(printf '%s\n' "${pylines[@]}" | awk '{print $6}' | $stat)
		printf '%-16s %12s %15s %7s   %14s %17s %7s\n' "$net ($stat)" "$goips" "$pyips" "$(ratio "$goips" "$pyips")x" "$gocpu" "$pycpu" "$(ratio "$gocpu" "$pycpu")x"
	done
	for ((r = 0; r < repeats; r++)); do
		echo "  run $((r + 1)) go:    ${golines[r]}"
		echo "  run $((r + 1)) torch: ${pylines[r]}"
	done
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
