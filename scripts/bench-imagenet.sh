#!/usr/bin/env bash
# Side-by-side throughput of the ImageNet input pipelines (issue 17): ours
# (loader/bench_test.go: BenchmarkImageNetBeton) and FFCV's, on the same
# JPEG .beton, batch 32, at 1 and 2 threads:
#   train         RandomResizedCrop 224 + flip + normalise
#   train-jitter  the same with ColorJitter(0.4, 0.4, 0.4, 0.2) (ours only:
#                 FFCV has no colour jitter)
#   eval          resize 256 + centre crop 224 + normalise (FFCV: its
#                 CenterCropRGBImageDecoder, ratio 224/256)
# The images come from `convert-imagenet synth --bench N`: N textured JPEGs (quality 90, 500x375 and
# 375x500, pixel noise and edges over colour fields: about 90 KB each, as
# ImageNet's photographs; smooth gradients would decode unrealistically
# fast), converted by convert-imagenet. FFCV runs when /usr/bin/python3 can
# import ffcv (build it outside the repository, e.g. in /tmp, from its
# source with Debian's python3-numba, python3-opencv, python3-torch,
# libturbojpeg0-dev and python3-dev, and put it on PYTHONPATH); otherwise
# ours runs alone.
#
# Usage: scripts/bench-imagenet.sh [N]   (images, default 512)
# Env:   PYTHON (default /usr/bin/python3), THREADS (default "1 2"),
#        EPOCHS (timed epochs per run, default 3), REPEATS (runs of each
#        side, interleaved ours, FFCV, ours, ...; default 3),
#        WORK (folder for the images and the .beton; default a temporary one),
#        FFCV_TIMEOUT (seconds per FFCV run, default 1800).
# The machine may be shared: each cell is the median of REPEATS runs, each
# run's rate over EPOCHS epochs after a warm-up epoch; img/cpu-s (images per
# CPU second of the whole process, all threads) is the per-core rate and
# varies far less than the wall-clock rate when other work competes for the
# cores. The load average is printed before and after.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-512}
python=${PYTHON:-/usr/bin/python3}
threads=${THREADS:-1 2}
epochs=${EPOCHS:-3}
repeats=${REPEATS:-3}
work=${WORK:-}
if [[ -z $work ]]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)   images=$n   epochs=$epochs   repeats=$repeats   cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"

# 1. The images and the .beton.
beton=$work/out/imagenet_train.beton
if [[ ! -f $beton ]]; then
	rm -rf "$work/src"
	go build -o "$work/convert-imagenet" ./stages/convert-imagenet
	"$work/convert-imagenet" synth --bench "$n" --out "$work/src" >/dev/null
	"$work/convert-imagenet" convert --src "$work/src" --out "$work/out" >/dev/null
fi
echo "data: $beton ($(du -h "$beton" | cut -f1))"

# 2. The runners.
go test -c -o "$work/loader.test" ./loader/
have_ffcv=0
if "$python" -c 'import ffcv' 2>/dev/null; then
	have_ffcv=1
	cat >"$work/ffcv_bench.py" <<'EOF'
"""FFCV's ImageNet pipelines on a .beton: prints "pipeline img/s img/cpu-s"."""
import resource
import sys
import time

import numpy as np
from ffcv.fields.basics import IntDecoder
from ffcv.fields.rgb_image import CenterCropRGBImageDecoder, RandomResizedCropRGBImageDecoder
from ffcv.loader import Loader, OrderOption
from ffcv.transforms import NormalizeImage, RandomHorizontalFlip, ToTensor

path, threads, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mean = np.array([0.485, 0.456, 0.406]) * 255
std = np.array([0.229, 0.224, 0.225]) * 255


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


for name in ["train", "eval"]:
    if name == "train":
        dec, order = [RandomResizedCropRGBImageDecoder((224, 224)), RandomHorizontalFlip()], OrderOption.RANDOM
    else:
        dec, order = [CenterCropRGBImageDecoder((224, 224), ratio=224 / 256)], OrderOption.SEQUENTIAL
    pipe = dec + [NormalizeImage(mean, std, np.float32), ToTensor()]
    loader = Loader(path, batch_size=32, num_workers=threads, order=order, drop_last=True, os_cache=True,
                    pipelines={"image": pipe, "label": [IntDecoder(), ToTensor()]})
    for _ in loader:  # warm-up: compiles the pipeline, fills the page cache
        pass
    t0, c0, images = time.perf_counter(), cpu(), 0
    for _ in range(epochs):
        for x, y in loader:
            images += x.shape[0]
    t, c = time.perf_counter() - t0, cpu() - c0
    print(f"{name} {images / t:.1f} {images / c:.1f}", flush=True)
EOF
else
	echo "ffcv is not importable by $python: ours alone (see the header of this script to build FFCV)"
fi

# What ours runs on: the JPEG decoder and the image kernels' path
# (PERTNAS_IMGKERN pins it; this script's runs inherit the environment).
PERTNAS_BENCH_BETON=$beton "$work/loader.test" -test.run '^$' -test.bench 'ImageNetBeton/eval' \
	-test.benchtime 32x -test.cpu 1 2>&1 | sed -n 's/^ *bench_test.go:[0-9]*: /ours: /p' | head -1

# 3. Interleaved runs. results: "side threads pipeline img/s img/cpu-s" lines.
results=$work/results.txt
: >"$results"
images=$(( (n / 32) * 32 * epochs ))
for rep in $(seq "$repeats"); do
	for t in $threads; do
		PERTNAS_BENCH_BETON=$beton "$work/loader.test" -test.run '^$' -test.bench 'ImageNetBeton' \
			-test.benchtime "${images}x" -test.cpu "$t" 2>&1 |
			awk -v t="$t" '/^BenchmarkImageNetBeton/ {
				split($1, p, "/"); sub(/-[0-9]+$/, "", p[2])
				for (i = 2; i <= NF; i++) { if ($i == "images/s") w = $(i-1); if ($i == "img/cpu-s") c = $(i-1) }
				print "ours", t, p[2], w, c }' >>"$results"
		if [[ $have_ffcv == 1 ]]; then
			# FFCV compiles its pipelines with numba at every start (minutes
			# of CPU); a run that hangs is cut off after FFCV_TIMEOUT seconds.
			timeout "${FFCV_TIMEOUT:-1800}" "$python" "$work/ffcv_bench.py" "$beton" "$t" "$epochs" 2>/dev/null |
				awk -v t="$t" '{print "ffcv", t, $1, $2, $3}' >>"$results"
		fi
	done
	echo "run $rep done; load $(cut -d' ' -f1-3 /proc/loadavg)"
done

# 4. The table: medians.
echo
echo "medians of $repeats runs (images/s wall clock | images per CPU second)"
printf '%-14s %7s %22s %22s %14s %14s\n' pipeline threads "ours img/s | /cpu-s" "FFCV img/s | /cpu-s" "ours/FFCV" "(per cpu-s)"
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2] + a[NR/2+1]) / 2}'; }
for t in $threads; do
	for p in train train-jitter eval; do
		ow=$(awk -v t="$t" -v p="$p" '$1 == "ours" && $2 == t && $3 == p {print $4}' "$results" | median)
		oc=$(awk -v t="$t" -v p="$p" '$1 == "ours" && $2 == t && $3 == p {print $5}' "$results" | median)
		fp=$p
		[[ $p == train-jitter ]] && fp=train # compared with FFCV's train pipeline without jitter
		fw=$(awk -v t="$t" -v p="$fp" '$1 == "ffcv" && $2 == t && $3 == p {print $4}' "$results" | median)
		fc=$(awk -v t="$t" -v p="$fp" '$1 == "ffcv" && $2 == t && $3 == p {print $5}' "$results" | median)
		rw=- rc=-
		if [[ $fw != - ]]; then
			rw=$(awk -v a="$ow" -v b="$fw" 'BEGIN {printf "%.2fx", a / b}')
			rc=$(awk -v a="$oc" -v b="$fc" 'BEGIN {printf "%.2fx", a / b}')
		fi
		printf '%-14s %7s %22s %22s %14s %14s\n' "$p" "$t" "$ow | $oc" "$fw | $fc" "$rw" "$rc"
	done
done
echo "(train-jitter is compared with FFCV's train pipeline, which has no colour jitter)"
echo
echo "every run:"
cat "$results"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
