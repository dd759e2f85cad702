"""The SDK's own counters over the producers' logs (each ends with run.stats()): the requests made (a run sends at most
one per flush interval, 25 ms, unless a full batch is waiting) and the time from log_metric to the server's acceptance.
   python3 sdk_stats.py WORK/producer-*.log"""
import ast
import statistics
import sys

stats = []
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            if "flushed=True" in line and "{" in line:
                stats.append(ast.literal_eval(line[line.index("{"):]))
if stats:
    requests = sum(s["requests"] for s in stats)
    p50 = statistics.median(s["delay_ms"]["p50"] for s in stats)
    p99 = max(s["delay_ms"]["p99"] for s in stats)
    print(f"sdk_requests {requests} ({requests / len(stats):.0f} per run); log_metric to accepted: p50 {p50:.0f} ms (median of runs), "
          f"p99 {p99:.0f} ms (worst run)")
