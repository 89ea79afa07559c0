#!/bin/sh
# summary.sh RUN DATA: the short report `make demo` ends with: the genotype found,
# the accuracies of training it, and where every artifact of the run is.
# Plain POSIX sh, sed, awk and printf, so it runs on a fresh machine with nothing installed.
run=$1 data=$2
field() { sed -n "s/^ *\"$1\": *\([^,]*\),*$/\1/p" "$2" | head -n 1 | tr -d '"'; }
pct() { awk -v x="$1" 'BEGIN { printf "%.2f%%", 100 * x }'; }
echo
echo "== pertnas demo summary =="
echo "genotype (one cell, used as normal and reduction cell):"
sed 's/^/  /' "$run/genotype.py"
res=$run/eval/result.json
printf 'train-eval: test accuracy best %s (epoch %s), final %s; %s parameters; %.0f s\n' \
	"$(pct "$(field best_test_acc "$res")")" "$(field best_epoch "$res")" "$(pct "$(field final_test_acc "$res")")" \
	"$(field parameters "$res")" "$(field wall_seconds "$res")"
score=$run/nb301/score.json
if [ -f "$score" ]; then
	v=$(field version "$score")
	printf 'NB301%s: ensemble mean %.2f%%, noisy draw %.2f%% (seed %s)\n' "${v:+ v$v}" \
		"$(field mean "$score")" "$(field noisy "$score")" "$(field seed "$score")"
fi
echo "report: $run/report.html (open it in a browser)"
echo "artifacts:"
echo "  data      $data/cifar_train.beton $data/cifar_test.beton $data/manifest.json"
echo "  search    $run/genotype.json $run/genotype.py $run/cell.svg $run/selection.arrow $run/search.json"
echo "            $run/members/*/valuation.arrow $run/members/*/log.arrow"
echo "  train     $run/eval/result.json $run/eval/metrics.arrow $run/eval/model.safetensors $run/eval/curves.png"
echo "  nb301     $run/nb301/config.json $run/nb301/features.json $run/nb301/genotype.py"
echo "  report    $run/report.html"
