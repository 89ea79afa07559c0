#!/usr/bin/env bash
# fuzz.sh — fuzz every Go fuzz target of the module for a bounded time.
#
#   scripts/fuzz.sh [FUZZTIME] [PATTERN]
#
# Finds every `func FuzzX(f *testing.F)` in the module's *_test.go files and
# runs each one alone, one after another:
#
#   go test -run '^$' -fuzz '^FuzzX$' -fuzztime FUZZTIME ./pkg/
#
# FUZZTIME is a Go duration (default 15s). PATTERN, an extended regular
# expression, keeps only the targets whose "pkg FuzzX" line matches it.
# FUZZ_PARALLEL=N passes -parallel N (fuzzing workers; default: one per CPU).
#
# Each target starts from an empty corpus cache in a temporary directory, so
# every run explores afresh from the committed seeds (testdata/fuzz/FuzzX/ and
# f.Add); the fuzzer picks its own random seed on each run. A failing target's
# new crashing input, which go test writes to pkg/testdata/fuzz/FuzzX/, is
# printed into the log as written, so it can be committed as a regression seed.
#
# At the end a table lists target, package, time, execs and result; the exit
# status is 1 if any target failed.
set -uo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-15s}
pattern=${2:-}
go=${GO:-go}
parallel=()
if [[ -n ${FUZZ_PARALLEL:-} ]]; then parallel=(-parallel "$FUZZ_PARALLEL"); fi

# targets: "pkg FuzzX" lines, sorted.
mapfile -t targets < <(
	grep -rEo --include='*_test.go' --exclude-dir=testdata --exclude-dir=vendor --exclude-dir=.git \
		'^func Fuzz[A-Za-z0-9_]*\(' . |
		sed -E 's|^\./(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\($|./\1/ \2|; s|^\./[^/]*:func (Fuzz[A-Za-z0-9_]*)\($|./ \1|' |
		sort -u
)
if [[ -n $pattern ]]; then
	mapfile -t targets < <(printf '%s\n' "${targets[@]}" | grep -E -- "$pattern")
fi
if [[ ${#targets[@]} -eq 0 ]]; then
	echo "fuzz.sh: no fuzz targets found${pattern:+ matching $pattern}" >&2
	exit 1
fi

cachedir=$(mktemp -d)
logdir=$(mktemp -d)
trap 'rm -rf "$cachedir" "$logdir"' EXIT

echo "fuzz.sh: ${#targets[@]} targets, $fuzztime each${parallel:+, -parallel ${FUZZ_PARALLEL}}"
rows=()
failed=0
for t in "${targets[@]}"; do
	pkg=${t% *}
	dir=${pkg%/}
	name=${t#* }
	log="$logdir/$name.log"
	mkdir -p "$cachedir/$name"
	before=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | sort)
	echo "=== $name $pkg"
	start=$(date +%s)
	# -test.fuzzcachedir comes after go test's own, so it wins: a fresh cache.
	# -timeout 0: go test's default 10m would end a long FUZZTIME early.
	"$go" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -timeout 0 "${parallel[@]}" "$pkg" \
		-args -test.fuzzcachedir="$cachedir/$name" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	tail -n 30 "$log"
	execs=$(grep -Eo 'execs: [0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+')
	if [[ $rc -eq 0 ]]; then
		result=ok
	else
		result=FAIL
		failed=1
		# Print every new input go test saved for this target.
		after=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | sort)
		for f in $(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after")); do
			[[ -n $f ]] || continue
			echo "--- new crashing input $dir/testdata/fuzz/$name/$f (commit it as a regression seed):"
			cat "$dir/testdata/fuzz/$name/$f"
			echo "--- end of $f"
		done
	fi
	rows+=("$(printf '%-22s %-26s %6ss %12s  %s' "$name" "$pkg" "$secs" "${execs:--}" "$result")")
done

echo
printf '%-22s %-26s %7s %12s  %s\n' target package time execs result
printf '%s\n' "${rows[@]}"
if [[ $failed -ne 0 ]]; then
	echo "fuzz.sh: some targets FAILED (see above)" >&2
fi
exit $failed
