#!/usr/bin/env python3
"""The SDK's side of live training boards: what log_metric costs the training loop, and how many points per second
one process can ship.

    python3 bench/metrics-sdk/sdk_bench.py                 # against a sink (a separate process answering at once)
    PLATFORM_API_URL=... PLATFORM_API_KEY=... python3 bench/metrics-sdk/sdk_bench.py --platform   # the real Api

1. log_metric cost: N calls (default 1,000,000) with the sender thread shipping meanwhile (the GIL is shared, so this
   is what training pays), reported in microseconds per call; and the same with nothing listening (the outage case).
2. Shipping: P points (default 1,000,000) logged as fast as possible into a buffer big enough to hold them, then the
   time until the server accepted every one: points/s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Notebook", "sdk"))

from platformsdk import metrics  # noqa: E402

SINK = r'''
import json, sys, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/runs"):
            out = json.dumps({"id": str(uuid.uuid4()), "series": []}).encode()
        else:
            out = json.dumps({"accepted": body.count(b'"name"'), "duplicates": 0}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
    def log_message(self, *a): pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H); print(s.server_address[1], flush=True); s.serve_forever()
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cost(url: str, key: str, calls: int) -> float:
    run = metrics.Run("bench-cost", api_url=url, api_key=key, max_buffer=max(calls, 100_000), flush_timeout=60,
                      finish_at_exit=False)
    run.log_metric("warmup", 0.0)
    run.flush(30)
    started = time.perf_counter()
    log = run.log_metric
    for i in range(calls):
        log("loss", i * 0.001)
    elapsed = time.perf_counter() - started
    run.flush(120)
    run._abort.set()
    return elapsed / calls * 1e6


def outage_cost(calls: int) -> float:
    run = metrics.Run("bench-outage", api_url=f"http://127.0.0.1:{free_port()}", api_key="plat_x", flush_timeout=0.1,
                      finish_at_exit=False)
    started = time.perf_counter()
    log = run.log_metric
    for i in range(calls):
        log("loss", i * 0.001)
    elapsed = time.perf_counter() - started
    run._abort.set()
    metrics._RUNS.discard(run)
    return elapsed / calls * 1e6


def shipping(url: str, key: str, points: int, series: int) -> dict:
    run = metrics.Run("bench-ship", api_url=url, api_key=key, max_buffer=points + 1, flush_timeout=600,
                      finish_at_exit=False)
    run.log_metric("warmup", 0.0)
    run.flush(30)
    base = run.sent
    started = time.perf_counter()
    names = [f"s{i}" for i in range(series)]
    for i in range(points // series):
        for name in names:
            run.log_metric(name, i * 0.5)
    logged = time.perf_counter() - started
    ok = run.flush(600)
    elapsed = time.perf_counter() - started
    run._abort.set()
    sent = run.sent - base
    return {"points": sent, "flushed": ok, "seconds": round(elapsed, 3), "log_seconds": round(logged, 3),
            "points_per_s": round(sent / elapsed), "requests": run.requests, "connections": run.connections,
            "run": run.id}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--platform", action="store_true", help="use PLATFORM_API_URL/PLATFORM_API_KEY, not a sink")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=2)
    args = parser.parse_args()
    sink = None
    if args.platform:
        url, key = os.environ["PLATFORM_API_URL"], os.environ["PLATFORM_API_KEY"]
    else:
        sink = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
        url, key = f"http://127.0.0.1:{sink.stdout.readline().strip()}", "plat_bench"
    try:
        result = {
            "target": "platform" if args.platform else "sink",
            "python": sys.version.split()[0],
            "log_metric_us": round(cost(url, key, args.calls), 3),
            "log_metric_us_outage": round(outage_cost(args.calls), 3),
            "calls": args.calls,
            "ship": shipping(url, key, args.points, args.series),
        }
    finally:
        if sink is not None:
            sink.terminate()
            sink.wait()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
