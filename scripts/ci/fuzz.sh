#!/usr/bin/env bash
# CI step: fuzz every fuzz target of the module for 15 s each (a few
# minutes in all), after the unit tests. A failure prints the new crashing
# input (the testdata/fuzz file, as written) so that it can be committed as a
# regression seed; the step then exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v "${GO:-go}" >/dev/null; then
	echo "ci/fuzz.sh: SKIP: no go toolchain on PATH" >&2
	exit 0
fi
exec bash scripts/fuzz.sh "${FUZZTIME:-15s}"
