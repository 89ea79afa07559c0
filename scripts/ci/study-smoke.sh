#!/usr/bin/env bash
# CI: `make study` end to end at a toy scale (synthetic data, one search and
# one random cell, the three published cells, one training seed each, tiny
# networks), then checks the report it writes. About 3-5 minutes on 2 cores.
# Runs from the repository root; exits non-zero on failure.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make build >/dev/null
make --no-print-directory study \
	STUDY_DIR="$tmp/study" STUDY_OUT="$tmp/study-report" STUDY_DATASETS=synth STUDY_K=1 STUDY_S=1 \
	STUDY_SYNTH_TRAIN=400 STUDY_SYNTH_TEST=100 \
	STUDY_SEARCH_ARGS="--preset smoke --npop 1 --layers 3 --channels 4 --train-images 64 --val-images 32 --batch-size 16" \
	STUDY_TRAIN_ARGS="--preset smoke --epochs 1 --limit-train 64 --limit-test 64" \
	STUDY_COMMAND="scripts/ci/study-smoke.sh"
md="$tmp/study-report.md"
for want in "| search | 1 | 1 |" "| random | 1 | 1 |" "| DARTS_V2 | 1 | 1 |" "Mann-Whitney U" "| search-1 | 1 |" "**Verdict:**"; do
	if ! grep -qF -- "$want" "$md"; then
		echo "study-smoke: $md lacks '$want':" >&2
		cat "$md" >&2
		exit 1
	fi
done
grep -q "<circle" "$tmp/study-report.svg" || { echo "study-smoke: no dots in the plot" >&2; exit 1; }
echo "study-smoke: ok"
