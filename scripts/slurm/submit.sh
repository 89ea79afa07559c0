#!/bin/bash
# scripts/slurm/submit.sh: submit the whole PertNAS pipeline to SLURM as a
# chain of jobs: convert -> member array (one member per task) -> select ->
# NB301 export + train-eval, each waiting for the previous with afterok.
# Everything is chosen with variables; nothing in the scripts needs editing.
#
#   make build   # once; bin/, RUN and DATA must be on storage every node sees
#   # a GPU cluster, the published setting (1 GPU, 8 CPUs, 32G per job):
#   RUN=runs/c10 DATA=data/cifar10 SRC=/path/cifar-10-binary.tar.gz NPOP=4 \
#       scripts/slurm/submit.sh
#   # a cluster without GPUs (members on the CPU, 2 CPUs and 2G each):
#   RUN=runs/c10 DATA=data/cifar10 SRC=/path/cifar-10-binary.tar.gz NPOP=4 \
#       GPUS=0 CPUS=2 MEM=2G scripts/slurm/submit.sh
#
# Variables (defaults in brackets):
#   RUN, DATA        run folder and dataset folder (required)
#   SRC              the CIFAR-10 binary archive [unset: download it into DATA]
#   NPOP             population size, one array task per member [4]
#   SEED             --seed of the search and of train-eval [the stages' own]
#   SEARCH_ARGS      extra search-evolve flags, e.g. "--preset smoke"
#   EVAL_ARGS        extra train-eval flags, e.g. "--preset quick"
#   NB301_MODELS     NAS-Bench-301 surrogate models folder, for a score
#   GPUS             GPUs per member, select and eval job; 0: a CPU cluster,
#                    no gres is asked for and the stages run on the CPU [1]
#   GPU_TYPE         gres type, e.g. a100 (--gres=gpu:a100:N) [none]
#   DEVICE           --device of the stages [cuda, or cpu when GPUS=0]
#   CPUS, MEM        --cpus-per-task and --mem of every job; the stages'
#                    --threads follows the CPUs [8 and 32G; convert 2 and 4G]
#   {CONVERT,MEMBER,SELECT,EVAL}_{CPUS,MEM,TIME}
#                    the same for one kind of job, and its time limit
#                    [TIME: 00:30:00, 12:00:00, 12:00:00, 48:00:00]
#   PARTITION, ACCOUNT, QOS   --partition, --account, --qos of every job
#   SBATCH_ARGS      further sbatch options for every job (e.g.
#                    "--constraint=v100 --signal=B:TERM@600"), and
#                    {CONVERT,MEMBER,SELECT,EVAL}_SBATCH_ARGS for one kind
#   LOGS             folder of the jobs' output files [RUN/slurm]
#   BINDIR           the stage binaries [bin of this repository]
#
# It submits all jobs or none: when an sbatch fails, the jobs already
# submitted are cancelled and it exits 1 with sbatch's message; bad
# variables exit 2 before anything is submitted. It prints the job ids and
# the commands to watch and to resume the run. A job that is requeued
# (preemption, `scontrol requeue ID`) continues from its last completed unit
# of work; after a failure, a cancel or a time limit, cancel what is left of
# the chain and run the same command again: finished work is skipped and
# interrupted work continues where it stopped.
set -euo pipefail
prog=submit.sh

# The command as given, for the resume hint: the variables set by the caller.
vars="RUN DATA SRC NPOP SEED SEARCH_ARGS EVAL_ARGS NB301_MODELS GPUS GPU_TYPE DEVICE CPUS MEM PARTITION ACCOUNT QOS SBATCH_ARGS LOGS BINDIR"
kinds="CONVERT MEMBER SELECT EVAL"
for k in $kinds; do vars="$vars ${k}_CPUS ${k}_MEM ${k}_TIME ${k}_SBATCH_ARGS"; done
quote() { # quote WORD: WORD as the shell reads it back
	if [[ $1 =~ ^[A-Za-z0-9_./:,=+@%-]+$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}
again=""
for v in $vars; do
	if [ -n "${!v:-}" ]; then again+="$v=$(quote "${!v}") "; fi
done
again+=$(quote "$0")

bad() {
	echo "$prog: $*" >&2
	echo "$prog: nothing was submitted" >&2
	exit 2
}
uint() { # uint NAME MIN: NAME's value must be an integer >= MIN
	local v=${!1}
	[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$2" ] || bad "$1=$v: want an integer >= $2"
}

[ -n "${RUN:-}" ] || bad "set RUN, the run folder"
[ -n "${DATA:-}" ] || bad "set DATA, the dataset folder"
NPOP=${NPOP:-4} GPUS=${GPUS:-1}
uint NPOP 1
uint GPUS 0
for v in CPUS $(for k in $kinds; do echo "${k}_CPUS"; done); do
	if [ -n "${!v:-}" ]; then uint "$v" 1; fi
done
if [ -z "${DEVICE:-}" ]; then
	DEVICE=cuda
	if [ "$GPUS" = 0 ]; then DEVICE=cpu; fi
fi
if [ -n "${SRC:-}" ] && [ ! -e "$SRC" ]; then bad "SRC=$SRC: no such file or folder"; fi
here=$(cd "$(dirname "$0")" && pwd)
BINDIR=${BINDIR:-$(cd "$here/../.." && pwd)/bin}
for b in convert-cifar search-evolve train-eval export-nb301; do
	[ -x "$BINDIR/$b" ] || bad "$BINDIR/$b: missing (run make build, on storage every node sees; or set BINDIR)"
done
if ! command -v sbatch >/dev/null; then bad "sbatch: not found (run this on a SLURM login node)"; fi
LOGS=${LOGS:-$RUN/slurm}

# options KIND: sets opts to the sbatch options of one kind of job.
opts=()
options() {
	local k=$1 cpus mem time gpus=$GPUS v words
	case $k in
	CONVERT) cpus=${CPUS:-2} mem=${MEM:-4G} time=00:30:00 gpus=0 ;;
	MEMBER | SELECT) cpus=${CPUS:-8} mem=${MEM:-32G} time=12:00:00 ;;
	EVAL) cpus=${CPUS:-8} mem=${MEM:-32G} time=48:00:00 ;;
	esac
	v=${k}_CPUS cpus=${!v:-$cpus}
	v=${k}_MEM mem=${!v:-$mem}
	v=${k}_TIME time=${!v:-$time}
	opts=(--gres=none "--cpus-per-task=$cpus" "--mem=$mem" "--time=$time")
	if [ "$gpus" != 0 ]; then opts[0]=--gres=gpu:${GPU_TYPE:+$GPU_TYPE:}$gpus; fi
	if [ -n "${PARTITION:-}" ]; then opts+=("--partition=$PARTITION"); fi
	if [ -n "${ACCOUNT:-}" ]; then opts+=("--account=$ACCOUNT"); fi
	if [ -n "${QOS:-}" ]; then opts+=("--qos=$QOS"); fi
	v=${k}_SBATCH_ARGS
	read -ra words <<<"${SBATCH_ARGS:-} ${!v:-}"
	opts+=("${words[@]}")
}

export RUN DATA NPOP DEVICE BINDIR
export SRC="${SRC:-}" SEED="${SEED:-}" SEARCH_ARGS="${SEARCH_ARGS:-}" EVAL_ARGS="${EVAL_ARGS:-}" \
	NB301_MODELS="${NB301_MODELS:-}"

# All or nothing: until the last job is in, leaving cancels what was
# submitted (an sbatch that failed, Ctrl-C, any error).
submitted=()
made_logs=""
errfile=$(mktemp)
rollback() {
	local status=$?
	rm -f "$errfile"
	if [ -n "$done" ]; then return; fi
	if [ ${#submitted[@]} -gt 0 ]; then
		echo "$prog: cancelling the jobs already submitted: ${submitted[*]}" >&2
		scancel "${submitted[@]}" || echo "$prog: scancel failed: cancel ${submitted[*]} by hand" >&2
	fi
	# the folders made for the logs, innermost first, while empty
	local d=$LOGS
	while [ -n "$made_logs" ] && rmdir "$d" 2>/dev/null && [ "$d" != "$made_logs" ]; do
		d=$(dirname "$d")
	done
	exit $((status == 0 ? 1 : status))
}
done=""
trap rollback EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -d "$LOGS" ]; then
	made_logs=$LOGS # the outermost folder made
	while [ ! -e "$(dirname "$made_logs")" ]; do made_logs=$(dirname "$made_logs"); done
	mkdir -p "$LOGS"
fi

# submit KIND OUTPUT SCRIPT [sbatch options]: submits SCRIPT and sets id.
id=""
submit() {
	local k=$1 output=$2 script=$3 out
	shift 3
	options "$k"
	if ! out=$(sbatch --parsable --export=ALL --output="$LOGS/$output" "${opts[@]}" "$@" \
		"$here/$script" 2>"$errfile"); then
		echo "$prog: sbatch $script failed:" >&2
		cat "$errfile" >&2
		exit 1
	fi
	cat "$errfile" >&2 # sbatch's warnings, if any
	id=${out##*$'\n'}
	id=${id%%;*}
	if ! [[ $id =~ ^[0-9]+$ ]]; then
		echo "$prog: sbatch $script printed no job id: $out" >&2
		exit 1
	fi
	submitted+=("$id")
}

submit CONVERT '%x-%j.out' convert.sbatch
convert=$id
submit MEMBER '%x-%A_%a.out' search.sbatch --array=0-$((NPOP - 1)) --dependency=afterok:"$convert" \
	--kill-on-invalid-dep=yes
members=$id
submit SELECT '%x-%j.out' select.sbatch --dependency=afterok:"$members" --kill-on-invalid-dep=yes
select=$id
submit EVAL '%x-%j.out' eval.sbatch --dependency=afterok:"$select" --kill-on-invalid-dep=yes
eval=$id
done=1

all="$convert,$members,$select,$eval"
cat <<EOF
submitted run $RUN: $NPOP members on $DEVICE, $GPUS GPU(s) per job
  convert  $convert
  members  $members  (array 0-$((NPOP - 1)))
  select   $select
  eval     $eval
logs:    $LOGS/
watch:   squeue -j $all
         sacct -j $all   (where accounting is on)
resume:  a requeued job (preemption, scontrol requeue ID) continues by itself;
         after a failure, a cancel or a time limit, in $PWD:
         scancel -Q $all; $again
EOF
