#!/bin/bash
# scripts/slurm-check.sh: the SLURM chain of scripts/slurm run on a real,
# single-node SLURM cluster made for the occasion, against the same run made
# with make. From the repository root, as root:
#
#   scripts/slurm-check.sh        # or: make slurm-check
#
# It installs Debian's slurmctld, slurmd, slurm-client and munge when they
# are missing (apt-get update, then install; no daemon is started by the
# install), writes its own munge key and slurm.conf in a temporary folder
# (its own socket, ports, spool and state folders: a system SLURM or munge
# is never touched) and starts munged, slurmctld and slurmd from them. Then:
#
#   1. the demo run with make (make demo: a synthetic CIFAR-10 archive,
#      `--preset smoke` search with 2 members, `--preset quick` training);
#   2. the default (GPU) submission, which this CPU-only cluster refuses:
#      submit.sh must exit non-zero and leave no job behind;
#   3. the same run submitted with variables only as on a CPU cluster
#      (GPUS=0 CPUS=2 MEMBER_CPUS=1 MEM=1G ... scripts/slurm/submit.sh);
#      member 1 is requeued (`scontrol requeue`) once it has saved some
#      units of work and must go on from them; then member 0 is cancelled
#      (scancel) and the chain resumed with the command submit.sh printed,
#      and both members must go on from their saved units;
#   4. cmp of the SLURM run's genotype, valuation tables, selection and
#      trained model with the make run's: byte for byte.
#
# On exit it cancels its jobs and stops the daemons it started, by pid. It
# skips (exit 0) where it is not root or cannot install the packages; it
# exits 1 when a check fails, keeping the temporary folder (logs) for a look.
# KEEP=1 keeps the folder in any case. SYNTH_TRAIN, SYNTH_TEST: the size of
# the synthetic archive (1000, 200).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
say() { printf 'slurm-check: %s\n' "$*"; }
skip() {
	say "skipped: $*"
	exit 0
}
fail() {
	say "FAILED: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root (to install SLURM and run its daemons)"
pkgs="slurmctld slurmd slurm-client munge"
have() { for c in "$@"; do command -v "$c" >/dev/null || return 1; done; }
if ! have slurmctld slurmd sbatch scontrol squeue scancel munged; then
	have apt-get || skip "SLURM is not installed and there is no apt-get to install $pkgs"
	say "installing $pkgs"
	policy="" # keep the packages from starting their daemons
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		policy=1
	fi
	installed=1
	aptlog=$(mktemp)
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs; } \
		>"$aptlog" 2>&1 || installed=""
	if [ -n "$policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
	if [ -z "$installed" ] || ! have slurmctld slurmd sbatch munged; then
		tail -3 "$aptlog" >&2
		rm -f "$aptlog"
		skip "cannot install $pkgs"
	fi
	rm -f "$aptlog"
fi
have make go || skip "needs make and go to build the stages"
make -s build

T=$(mktemp -d /tmp/slurm-check.XXXXXX)
chmod 711 "$T"
mkdir -p "$T/munge" "$T/etc" "$T/state" "$T/spool" "$T/log" "$T/make" "$T/slurm"
chmod 711 "$T/munge"
export SLURM_CONF=$T/etc/slurm.conf # the clients talk to this cluster only

pids=()  # the daemons started here, last started first
child="" # the long command in progress (fg)
exec 3>&1 4>&2 # the check's output, for stop (which may run inside a redirection)
stop() {
	local status=$?
	set +e
	exec 1>&3 2>&4
	if [ -n "$child" ]; then
		kill -TERM -- "-$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	if [ ${#pids[@]} -gt 0 ]; then
		# The jobs first: their processes outlive slurmd.
		local jobs
		jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
		if [ -n "${jobs// /}" ]; then
			say "cancelling jobs $jobs"
			scancel $jobs
			for _ in $(seq 30); do
				[ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
				sleep 1
			done
		fi
		for p in "${pids[@]}"; do
			kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
		done
		say "stopped the daemons (pids ${pids[*]})"
	fi
	if [ "$status" != 0 ] || [ -n "${KEEP:-}" ]; then
		say "logs and runs kept in $T"
	else
		rm -rf "$T"
	fi
	exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# fg CMD...: runs CMD in a process group of its own and waits for it, so that
# an interrupted check stops it too (stop).
fg() {
	setsid "$@" &
	child=$!
	local s=0
	wait "$child" || s=$?
	child=""
	return "$s"
}

# --- the cluster: one node, this host, its CPUs and up to 8G ----------------
mem=$(awk '/^MemTotal:/ { m = int($2 / 1024) - 512; print (m < 8192 ? m : 8192) }' /proc/meminfo)
host=$(uname -n)
host=${host%%.*}
port=$((20000 + RANDOM % 20000))
dd if=/dev/urandom of="$T/munge/key" bs=1024 count=1 status=none
chmod 400 "$T/munge/key"
cat >"$SLURM_CONF" <<EOF
ClusterName=pertnascheck
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job may start again after it (default 120 s)
AuthInfo=socket=$T/munge/socket,cred_expire=10
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
# start jobs within seconds of becoming eligible (the defaults: 60 s, 30 s)
SchedulerParameters=sched_interval=2,bf_interval=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
munged -F -f --key-file="$T/munge/key" --socket="$T/munge/socket" --pid-file="$T/munge/pid" \
	--seed-file="$T/munge/seed" --log-file="$T/log/munged.log" >>"$T/log/munged.log" 2>&1 3>&- 4>&- &
pids=("$!")
for _ in $(seq 50); do [ -S "$T/munge/socket" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 3>&- 4>&- &
pids=("$!" "${pids[@]}")
slurmd -D -N "$host" -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 3>&- 4>&- &
pids=("$!" "${pids[@]}")
for i in $(seq 60); do
	if sinfo -h -o %t 2>/dev/null | grep -qx idle; then break; fi
	[ "$i" = 60 ] && { tail -5 "$T"/log/*; fail "the node did not come up in 30 s"; }
	sleep 0.5
done
say "cluster up: munged, slurmctld, slurmd (pids ${pids[*]}), port $port, node $host with $(nproc) CPUs, ${mem}M"
sinfo

# --- 1. the run made with make ----------------------------------------------
train=${SYNTH_TRAIN:-1000} test=${SYNTH_TEST:-200}
say "make demo ($train training, $test test images)"
t0=$(date +%s)
fg make -s demo DEMO_DATA="$T/make/data" DEMO_RUN="$T/make/run" DEMO_TRAIN="$train" DEMO_TEST="$test" \
	DEMO_SEED=1 >"$T/log/make.log" 2>&1 || {
	tail -20 "$T/log/make.log"
	fail "make demo"
}
times >"$T/log/times" # the second line: CPU time of the finished children (make build, make demo)
say "make demo done in $(($(date +%s) - t0)) s (CPU user, system so far: $(tail -1 "$T/log/times"))"

# --- 2. the default, GPU, submission is refused as a whole ------------------
cd "$T/slurm"
"$repo/bin/convert-cifar" synth --out "$T/slurm/synth.tar.gz" --train "$train" --test "$test" --seed 1 >/dev/null
say "submission with the defaults (a GPU per job), which this cluster has not:"
status=0
RUN=$T/slurm/refused DATA=$T/slurm/data SRC=$T/slurm/synth.tar.gz NPOP=2 \
	"$repo/scripts/slurm/submit.sh" >"$T/log/refused.out" 2>&1 || status=$?
sed 's/^/    /' "$T/log/refused.out"
[ "$status" = 1 ] || fail "submit.sh with a GPU on a CPU cluster: status $status, want 1"
left=$(squeue -h -o '%i %T')
[ -z "$left" ] || fail "jobs left behind: $left"
[ ! -e "$T/slurm/refused" ] || fail "the refused submission left $T/slurm/refused"
say "refused, nothing left in the queue"

# --- 3. the CPU-cluster submission; member 1 requeued, member 0 cancelled ---
RUN=$T/slurm/run DATA=$T/slurm/data
# the members side by side on one CPU each, the other jobs on two
cpus=$(($(nproc) < 2 ? 1 : 2))
submit=(env RUN="$RUN" DATA="$DATA" SRC="$T/slurm/synth.tar.gz" NPOP=2 GPUS=0 CPUS="$cpus" MEMBER_CPUS=1 MEM=1G
	SEED=1 SEARCH_ARGS="--preset smoke" EVAL_ARGS="--preset quick" "$repo/scripts/slurm/submit.sh")
say "submitting: ${submit[*]:1}"
t0=$(date +%s)
"${submit[@]}" >"$T/log/submit.out"
sed 's/^/    /' "$T/log/submit.out"

# ids FILE: sets convert, members, select and eval from submit.sh's output.
ids() {
	convert=$(awk '$1 == "convert" { print $2 }' "$1")
	members=$(awk '$1 == "members" { print $2 }' "$1")
	select=$(awk '$1 == "select" { print $2 }' "$1")
	eval=$(awk '$1 == "eval" { print $2 }' "$1")
	[ -n "$convert" ] && [ -n "$members" ] && [ -n "$select" ] && [ -n "$eval" ] ||
		fail "no job ids in $1"
}
# state JOB: the job's state (PENDING, RUNNING, COMPLETED, ...).
state() { scontrol show job -o "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
# units I: the units of work member I has saved (its journal's entries).
units() {
	local n
	n=$(grep -s -c '"kind"' "$RUN/members/$1/state/state.json" || true)
	echo "${n:-0}"
}
# await WHAT CONDITION...: waits up to 5 minutes for the condition.
await() {
	local what=$1 i
	shift
	for i in $(seq 600); do
		if "$@"; then return 0; fi
		sleep 0.5
	done
	fail "$what: not within 5 minutes"
}
# saved I N: member I is running and has saved N units or more.
saved() { [ "$(state "${members}_$1")" = RUNNING ] && [ "$(units "$1")" -ge "$2" ]; }
is() { [ "$(state "$1")" = "$2" ]; }
# goes_on I K: member I has more than K units saved; it fails the check when
# the member has fewer than K, i.e. started over (it replays its journal and
# only appends to it when it resumes).
goes_on() {
	local n
	n=$(units "$1")
	[ "$n" -ge "$2" ] || fail "member $1 started over: $n units saved, $2 before"
	[ "$n" -gt "$2" ]
}
ids "$T/log/submit.out"
log1=$RUN/slurm/pertnas-member-${members}_1.out

await "member 1 saving 5 units" saved 1 5
k1=$(units 1)
say "requeueing member 1 mid-run ($k1 units saved): scontrol requeue ${members}_1"
scontrol requeue "${members}_1"
await "member 1 running again" grep -q 'restart 1' "$log1"
await "member 1 going on" goes_on 1 "$k1"
say "member 1's output (requeued, then resumed):"
sed 's/^/    /' "$log1"
say "member 1 (the same job, restart 1) resumed: $(units 1) units saved, never fewer than $k1"

await "member 0 saving 10 units" saved 0 10
k0=$(units 0)
say "cancelling member 0 mid-run ($k0 units saved): scancel ${members}_0"
scancel "${members}_0"
await "member 0 cancelled" is "${members}_0" CANCELLED
old="$convert,${members}_0,${members}_1,$select,$eval"
resume=$(sed -n 's/^ *\(scancel -Q .*\)/\1/p' "$T/log/submit.out")
say "resuming as submit.sh says: $resume"
k1=$(units 1) # member 1 is cancelled by it and resumes too
eval "$resume" >"$T/log/resume.out"
sed 's/^/    /' "$T/log/resume.out"
ids "$T/log/resume.out"
gone() { [ -z "$(squeue -h -j "$1" -o %i 2>/dev/null || true)" ]; }
await "the first chain gone" gone "$old"
await "member 0 going on in the new chain" goes_on 0 "$k0"
say "member 0 (job ${members}_0 of the new chain) resumed: $(units 0) units saved, never fewer than $k0"
await "member 1 going on in the new chain" goes_on 1 "$k1"
say "member 1 (job ${members}_1 of the new chain) resumed: $(units 1) units saved, never fewer than $k1"

deadline=$(($(date +%s) + ${CHECK_TIMEOUT:-1200}))
while ! is "$eval" COMPLETED; do
	for j in "$convert" "${members}_0" "${members}_1" "$select" "$eval"; do
		case $(state "$j") in
		PENDING | RUNNING | CONFIGURING | COMPLETING | COMPLETED | REQUEUED) ;;
		*) fail "job $j is $(state "$j")" ;;
		esac
	done
	[ "$(date +%s)" -lt "$deadline" ] || fail "the chain did not finish in time"
	sleep 2
done
say "chain done in $(($(date +%s) - t0)) s; the jobs:"
scontrol show job -o | awk '{
	delete f
	for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
	id = f["JobId"]
	if (f["ArrayTaskId"] != "") id = f["ArrayJobId"] "_" f["ArrayTaskId"]
	printf "    %-6s %-16s %-10s restarts=%s exit=%s run=%s\n", id, f["JobName"], f["JobState"], f["Restarts"], f["ExitCode"], f["RunTime"]
}' | sort -n
say "member 0's output in the new chain:"
sed 's/^/    /' "$RUN/slurm/pertnas-member-${members}_0.out"

# --- 4. the same bytes as make's run -----------------------------------------
say "comparing with the make run:"
for f in genotype.json genotype.py members/0/valuation.arrow members/1/valuation.arrow selection.arrow \
	eval/model.safetensors; do
	if cmp "$T/make/run/$f" "$RUN/$f"; then
		say "  cmp $f: identical ($(stat -c %s "$RUN/$f") bytes)"
	else
		fail "$f differs from make's"
	fi
done
say "ok"
