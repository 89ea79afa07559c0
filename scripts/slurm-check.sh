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
#      (GPUS=0 CPUS=1 MEM=1G ... scripts/slurm/submit.sh); member 1 is
#      requeued (`scontrol requeue`) once it has saved some units of work,
#      and must resume from them;
#   4. cmp of the SLURM run's genotype.json, valuation tables and trained
#      model with the make run's: byte for byte.
#
# On exit it cancels its jobs and stops the daemons it started, by pid. It
# skips (exit 0) where it is not root or cannot install the packages; it
# exits 1 when a check fails, keeping the temporary folder (logs) for a look.
# KEEP=1 keeps the folder in any case. About 5 minutes on 2 idle cores.
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

pids=() # the daemons started here, last started first
stop() {
	local status=$?
	set +e
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

# --- the cluster: one node, this host, its CPUs, 3G for jobs ---------------
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
AuthInfo=socket=$T/munge/socket
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
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=3072 State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
munged -F -f --key-file="$T/munge/key" --socket="$T/munge/socket" --pid-file="$T/munge/pid" \
	--seed-file="$T/munge/seed" --log-file="$T/log/munged.log" >>"$T/log/munged.log" 2>&1 &
pids=("$!")
for _ in $(seq 50); do [ -S "$T/munge/socket" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
pids=("$!" "${pids[@]}")
slurmd -D -N "$host" -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
pids=("$!" "${pids[@]}")
for i in $(seq 60); do
	if sinfo -h -o %t 2>/dev/null | grep -qx idle; then break; fi
	[ "$i" = 60 ] && { tail -5 "$T"/log/*; fail "the node did not come up in 30 s"; }
	sleep 0.5
done
say "cluster up: munged, slurmctld, slurmd (pids ${pids[*]}), port $port, node $host with $(nproc) CPUs"
sinfo

# --- 1. the run made with make ----------------------------------------------
train=${SYNTH_TRAIN:-1000} test=${SYNTH_TEST:-200}
say "make demo ($train training, $test test images)"
t0=$(date +%s)
make -s demo DEMO_DATA="$T/make/data" DEMO_RUN="$T/make/run" DEMO_TRAIN="$train" DEMO_TEST="$test" \
	DEMO_SEED=1 >"$T/log/make.log" 2>&1 || {
	tail -20 "$T/log/make.log"
	fail "make demo"
}
say "make demo done in $(($(date +%s) - t0)) s"

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

# --- 3. the CPU-cluster submission, member 1 requeued mid-run ---------------
RUN=$T/slurm/run DATA=$T/slurm/data
submit=(env RUN="$RUN" DATA="$DATA" SRC="$T/slurm/synth.tar.gz" NPOP=2 GPUS=0 CPUS=1 MEM=1G EVAL_CPUS=2
	SEED=1 SEARCH_ARGS="--preset smoke" EVAL_ARGS="--preset quick" "$repo/scripts/slurm/submit.sh")
say "submitting: ${submit[*]:1}"
t0=$(date +%s)
"${submit[@]}" | tee "$T/log/submit.out" | sed 's/^/    /'
ids() { awk -v k="$1" '$1 == k { print $2 }' "$T/log/submit.out"; }
convert=$(ids convert) members=$(ids members) select=$(ids select) eval=$(ids eval)
[ -n "$eval" ] || fail "submit.sh printed no job ids"

# state JOB: the job's state (PENDING, RUNNING, COMPLETED, ...).
state() { scontrol show job -o "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
# member1: the output file of member 1.
member1=$RUN/slurm/pertnas-member-${members}_1.out
say "waiting for member 1 (job ${members}_1) to save 5 units of work"
for i in $(seq 600); do
	# the member's journal: one "kind" per unit saved
	n=$(grep -c '"kind"' "$RUN/members/1/state/state.json" 2>/dev/null || true)
	[ "${n:-0}" -ge 5 ] && [ "$(state "${members}_1")" = RUNNING ] && break
	[ "$i" = 600 ] && fail "member 1 saved no 5 units in 5 minutes"
	sleep 0.5
done
say "requeueing member 1 mid-run: scontrol requeue ${members}_1"
scontrol requeue "${members}_1"

deadline=$(($(date +%s) + ${CHECK_TIMEOUT:-1200}))
while :; do
	s=$(state "$eval")
	case $s in
	COMPLETED) break ;;
	PENDING | RUNNING | CONFIGURING | COMPLETING | REQUEUED) ;;
	*) fail "the eval job is $s" ;;
	esac
	for j in "$convert" "${members}_0" "${members}_1" "$select"; do
		case $(state "$j") in FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) fail "job $j is $(state "$j")" ;; esac
	done
	[ "$(date +%s)" -lt "$deadline" ] || fail "the chain did not finish in time"
	sleep 2
done
say "chain done in $(($(date +%s) - t0)) s; the jobs:"
scontrol show job -o | sed -E 's/.*(JobId=[0-9]+).*( ArrayJobId=[0-9]+ ArrayTaskId=[0-9]+)?.*(JobName=[^ ]+).*(JobState=[A-Z]+).*(Restarts=[0-9]+).*(RunTime=[^ ]+).*/\1 \3 \4 \5 \6/' |
	while read -r line; do printf '    %s\n' "$line"; done
scontrol show job -o "${members}_1" | grep -q 'Restarts=1' || fail "member 1 was not restarted"

say "member 1's output (requeued, then resumed):"
sed 's/^/    /' "$member1"
grep -q 'restart 1' "$member1" || fail "member 1 did not run again after the requeue"
# The stage logs the units already done when a phase (re)starts: after the
# requeue it must go on from more than the first unit.
resumed=$(sed -n '/restart 1/,$p' "$member1" | grep -o 'done=[0-9]*' | head -1 | cut -d= -f2)
[ "${resumed:-0}" -gt 1 ] || fail "member 1 started over after the requeue (done=${resumed:-?})"
say "member 1 resumed at unit $resumed"

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
