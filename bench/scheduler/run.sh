#!/usr/bin/env bash
# Scheduler: JOBS (10000) queued jobs across ACCOUNTS (50) decided by one pass of the platform's scheduler (bulk read,
# decision, writes in one transaction) vs Slurm 22.05 dispatching the same number of `sbatch --wrap=true`.
# Prints both sides and the ratio of rates (decisions per second ÷ Slurm's starts per second).
# Run from the repository root: bench/scheduler/run.sh   (SKIP_SLURM=1 for the platform side alone)
set -euo pipefail
export JOBS=${JOBS:-10000} ACCOUNTS=${ACCOUNTS:-50} ROUNDS=${ROUNDS:-3}
dotnet build bench/scheduler/SchedulerBench -c Release -nologo -v q >/dev/null
OUT=$(mktemp /tmp/platform-schedbench-XXXXXX)
trap 'rm -f "$OUT"' EXIT
echo "== platform: one scheduling pass over $JOBS queued jobs, $ACCOUNTS accounts (median of $ROUNDS)"
dotnet bench/scheduler/SchedulerBench/bin/Release/net10.0/Platform.SchedulerBench.dll | tee -a "$OUT"
if [[ "${SKIP_SLURM:-0}" != 1 ]]; then
  echo "== slurm: $JOBS sbatch --wrap=true on one node"
  bash bench/scheduler/slurm.sh | tee -a "$OUT"
fi
python3 - "$OUT" <<'PY'
import sys
v = dict(line.split()[:2] for line in open(sys.argv[1]) if line.startswith(("platform_", "slurm_")) and len(line.split()) >= 2)
ours = float(v["platform_decisions_per_s"])
print(f"platform: {v['platform_jobs']} decisions in {v['platform_total_ms']} ms (read {v['platform_read_ms']}, decide {v['platform_decide_ms']}, write {v['platform_write_ms']}) = {ours:.0f}/s (goal >= 2000/s)")
if "slurm_starts_per_s" in v:
    theirs = float(v["slurm_starts_per_s"])
    print(f"slurm:    {v['slurm_jobs']} jobs started in {v['slurm_span_s']} s from the first sbatch (sbatch calls alone {v['slurm_submit_s']} s) = {theirs:.1f}/s")
    print(f"ratio platform / slurm (rate): {ours / theirs:.0f}x")
PY
