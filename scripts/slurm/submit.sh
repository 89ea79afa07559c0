#!/bin/bash
# scripts/slurm/submit.sh: submit the whole PertNAS pipeline to SLURM as a
# chain of jobs: convert -> member array (one member per task) -> select ->
# train-eval + NB301 export, each waiting for the previous with afterok.
#
#   make build            # once, on a node with Go; bin/ must be on shared storage
#   RUN=runs/c10 DATA=data/cifar10 SRC=/path/cifar-10-binary.tar.gz NPOP=4 \
#       scripts/slurm/submit.sh
#
# Variables: RUN, DATA (required), SRC (archive; unset: download), NPOP (4),
# SEARCH_ARGS (extra search-evolve flags, e.g. "--preset smoke"), EVAL_ARGS,
# NB301_MODELS, DEVICE (cuda). Add sbatch options (partition, account) with
# SBATCH_PARTITION / SBATCH_ACCOUNT, which sbatch reads itself. Every job
# resumes from its saved state when resubmitted, so a failed link can be
# submitted again alone (e.g. `sbatch --array=2 ... search.sbatch`).
set -euo pipefail
: "${RUN:?set RUN, the run folder}" "${DATA:?set DATA, the dataset folder}"
NPOP=${NPOP:-4}
here=$(dirname "$0")
export RUN DATA NPOP
convert=$(sbatch --parsable --export=ALL "$here/convert.sbatch")
members=$(sbatch --parsable --dependency=afterok:"$convert" --array=0-$((NPOP - 1)) \
	--export=ALL "$here/search.sbatch")
select=$(sbatch --parsable --dependency=afterok:"$members" --export=ALL "$here/select.sbatch")
eval=$(sbatch --parsable --dependency=afterok:"$select" --export=ALL "$here/eval.sbatch")
echo "submitted: convert $convert, members $members (array 0-$((NPOP - 1))), select $select, eval $eval"
