#!/usr/bin/env bash
# Submit to running for a trivial job (`true`, one trainer) on the process backend: submits N jobs one after another
# through the API (each after the previous has ended, so none waits for another) and takes each job's own server times,
# submittedAt to startedAt (the replica launched: the scheduler's admission, the reconciler's launch). Prints p50, p99
# and max. With SLURM=1 (and the Debian packages slurmctld slurmd slurm-client munge), the peer beside it: the same N
# `sbatch --wrap=true` one after another on this machine, submit to start from Slurm's own job records (whole seconds).
#   bench/jobs-latency/run.sh [jobs (100)]
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=${1:-100}
source bench/common.sh
start_platform
sign_up full

python3 - "$WEB" "$KEY" "$jobs" <<'PY'
import json, sys, time, urllib.request
from datetime import datetime
web, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
def call(method, path, body=None):
    request = urllib.request.Request(web + "/api/v1" + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)
def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
latencies = []
for i in range(count):
    job = call("POST", "/jobs", {"name": f"trivial {i}", "command": ["true"], "trainers": {"count": 1, "cpus": 0.1, "memoryMiB": 64}})
    deadline = time.monotonic() + 60
    while job["state"] not in ("succeeded", "failed", "stopped"):
        if time.monotonic() > deadline:
            sys.exit(f"job {job['id']} did not end within 60 s: {job['state']} {job.get('queueReason')}")
        time.sleep(0.02)
        job = call("GET", f"/jobs/{job['id']}")
    if job["state"] != "succeeded":
        sys.exit(f"job {job['id']} {job['state']}: {job.get('reason')}")
    latencies.append(at(job["startedAt"]) - at(job["submittedAt"]))
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(f"platform_jobs {len(latencies)}")
print(f"platform_submit_to_running_p50_ms {pick(0.50) * 1000:.0f}")
print(f"platform_submit_to_running_p99_ms {pick(0.99) * 1000:.0f}")
print(f"platform_submit_to_running_max_ms {latencies[-1] * 1000:.0f}")
PY

if [[ "${SLURM:-0}" == "1" ]]; then
  JOBS=$jobs MODE=latency bench/scheduler/slurm.sh
fi
