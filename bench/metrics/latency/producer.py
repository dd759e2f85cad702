"""One training script of the latency bench: the SDK's log_metric at RATE points/s for SECONDS (after a warm-up point
and until the file GO exists), `at` taken inside log_metric. Writes its run id to WORK/run-I first.
   python3 producer.py I RATE SECONDS WORK"""
import os
import sys
import time

from platformsdk import init_run

index, rate, seconds, work = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
run = init_run(name=f"latency-{index}")
run.log_metric("loss", 0.0, step=0)
if not run.flush(timeout=60):
    sys.exit(f"producer {index}: the warm-up point was not accepted")
with open(f"{work}/run-{index}.tmp", "w") as f:
    f.write(str(run.id))
os.rename(f"{work}/run-{index}.tmp", f"{work}/run-{index}")
while not os.path.exists(f"{work}/go"):
    time.sleep(0.005)

total = int(rate * seconds)
start = time.monotonic()
step = 0
while step < total:
    # Every 5 ms, the points due by now: 500/s is 2 or 3 per tick, each with its own `at`.
    due = min(total, int((time.monotonic() - start) * rate))
    while step < due:
        step += 1
        run.log_metric("loss", step * 0.001, step=step)
    time.sleep(0.005)
ok = run.flush(timeout=120)
print(f"producer {index}: {total} points, flushed={ok}", run.stats(), flush=True)
