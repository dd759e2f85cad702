#!/usr/bin/env bash
# The peer: Slurm 22.05 (Debian packages slurmctld, slurmd, slurm-client, munge) on this machine, one node with this
# machine's cores (SLURM_NODE_CPUS to declare more: config_overrides), dispatching JOBS (default 10000) `sbatch --wrap=true`. Prints the submit-to-start figures:
#   slurm_submit_s (all sbatch calls), slurm_span_s (first submit to last start), slurm_starts_per_s.
# Runs as root (the daemons then run as root); everything lives in a temp folder removed at the end.
set -euo pipefail
JOBS=${JOBS:-10000}
for tool in slurmctld slurmd sbatch squeue munged; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y slurmctld slurmd slurm-client munge" >&2; exit 2; }
done

DIR=$(mktemp -d /tmp/platform-slurm-XXXXXX)
chmod 755 "$DIR"
mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge" "$DIR/out"
HOST=$(hostname -s)
CPUS=${SLURM_NODE_CPUS:-$(nproc)}
cleanup() {
  [[ -f "$DIR/slurmd.pid" ]] && kill "$(cat "$DIR/slurmd.pid")" 2>/dev/null || true
  [[ -f "$DIR/slurmctld.pid" ]] && kill "$(cat "$DIR/slurmctld.pid")" 2>/dev/null || true
  [[ -f "$DIR/munge/munged.pid" ]] && kill "$(cat "$DIR/munge/munged.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$DIR"
}
trap cleanup EXIT

# munge with a key and socket of its own (nothing under /etc or /run is touched).
dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$DIR/munge/munge.key"
munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
  --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed"

CTLD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SLURMD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$DIR/slurm.conf" <<CONF
ClusterName=bench
SlurmctldHost=$HOST
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MaxJobCount=$((JOBS * 2))
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmdParameters=config_overrides
NodeName=$HOST CPUs=$CPUS RealMemory=1000 State=UNKNOWN
PartitionName=bench Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$DIR/slurm.conf"
slurmctld -i
slurmd
for _ in $(seq 1 60); do sinfo -h -o '%t' 2>/dev/null | grep -qE '^idle' && break; sleep 0.5; done
sinfo -h -o '%t' | grep -qE '^idle' || { echo "slurm node did not come up:"; tail -20 "$DIR/slurmctld.log" "$DIR/slurmd.log"; exit 1; }
echo "slurm $(sinfo -V | awk '{print $2}') up: node $HOST with $CPUS CPUs" >&2

if [[ "${MODE:-throughput}" == "latency" ]]; then
  # One job at a time, each after the previous has left the queue: submit to start of an unloaded scheduler.
  for i in $(seq 1 "$JOBS"); do
    sbatch --quiet --output=/dev/null --wrap=true
    while [[ -n "$(squeue -h -o '%i' | head -1)" ]]; do sleep 0.05; done
  done
  for _ in $(seq 1 20); do
    [[ $(wc -l < "$DIR/jobcomp.txt" 2>/dev/null || echo 0) -ge $JOBS ]] && break; sleep 0.5
  done
  python3 - "$DIR/jobcomp.txt" <<'PY'
import sys, re, datetime
parse = lambda t: datetime.datetime.strptime(t, '%Y-%m-%dT%H:%M:%S').timestamp()
waits = sorted(parse(re.search(r'StartTime=(\S+)', l).group(1)) - parse(re.search(r'SubmitTime=(\S+)', l).group(1))
               for l in open(sys.argv[1]) if 'SubmitTime=' in l)
pick = lambda q: waits[min(len(waits) - 1, int(q * len(waits)))]
print(f"slurm_jobs {len(waits)}")
print(f"slurm_submit_to_start_p50_s {pick(0.5):.0f} (whole seconds: Slurm records times to the second)")
print(f"slurm_submit_to_start_p99_s {pick(0.99):.0f}")
PY
  exit 0
fi

start=$(date +%s.%N)
for i in $(seq 1 "$JOBS"); do
  sbatch --quiet --output=/dev/null --wrap=true
done
submitted=$(date +%s.%N)
# Wait until every job has left the queue (pending or running), then read each job's start from the completion log.
while [[ -n "$(squeue -h -o '%i' | head -1)" ]]; do sleep 0.5; done
for _ in $(seq 1 20); do
  [[ $(wc -l < "$DIR/jobcomp.txt" 2>/dev/null || echo 0) -ge $JOBS ]] && break; sleep 0.5
done
python3 - "$DIR/jobcomp.txt" "$start" "$submitted" "$JOBS" <<'PY'
import sys, re, datetime
path, start, submitted, jobs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
starts = []
for line in open(path):
    m = re.search(r'StartTime=(\S+)', line)
    if m:
        starts.append(datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S').timestamp())
last = max(starts)
span = max(last + 1 - start, 1e-9)   # StartTime has a one-second resolution: the last second counted whole
print(f"slurm_jobs {len(starts)}")
print(f"slurm_submit_s {submitted - start:.1f}")
print(f"slurm_span_s {span:.1f}")
print(f"slurm_starts_per_s {len(starts) / span:.1f}")
PY
