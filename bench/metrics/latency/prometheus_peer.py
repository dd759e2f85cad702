"""The peer: Prometheus (Debian's 2.42) scraping a gauge every 1 s from a tiny exporter that changes it 500 times/s (a
counter of updates), and a poll of its HTTP API every 1 s; for each update: when a poll first sees it (or a later one)
minus when the exporter made it, as log_metric to a board's client is measured.
   python3 prometheus_peer.py WORK SECONDS"""
import http.server
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request

work, seconds = sys.argv[1], float(sys.argv[2])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


set_at = [time.time()]  # set_at[v]: when the gauge became v
lock = threading.Lock()


def update():
    start = time.monotonic()
    while True:
        due = int((time.monotonic() - start) * 500)
        with lock:
            while len(set_at) <= due:
                set_at.append(time.time())
        time.sleep(0.002)


class Exporter(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with lock:
            value = len(set_at) - 1
        body = f"# TYPE bench_value gauge\nbench_value {value}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


exporter_port, prom_port = free_port(), free_port()
server = http.server.ThreadingHTTPServer(("127.0.0.1", exporter_port), Exporter)
threading.Thread(target=server.serve_forever, daemon=True).start()
threading.Thread(target=update, daemon=True).start()
with open(f"{work}/prometheus.yml", "w") as f:
    f.write(f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
            f"  - job_name: bench\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n")
prometheus = subprocess.Popen(["prometheus", f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/prometheus",
                               f"--web.listen-address=127.0.0.1:{prom_port}"],
                              stdout=open(f"{work}/prometheus.log", "w"), stderr=subprocess.STDOUT)
try:
    api = f"http://127.0.0.1:{prom_port}/api/v1/query?query=bench_value"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(api, timeout=2) as r:
                if json.load(r)["data"]["result"]:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit("prometheus did not come up with the gauge: see prometheus.log")
        time.sleep(0.2)

    # For every update k (set at set_at[k]): the first poll that sees the gauge at k or later, minus set_at[k]. The poll's
    # phase against the scrape decides much of it, so 10 pollers, each a plain 1 s poll, start 0.1 s apart and are pooled.
    latencies = []

    def poll(phase):
        last = None
        tick = time.monotonic() + phase
        end = time.monotonic() + seconds
        while tick < end:
            time.sleep(max(0.0, tick - time.monotonic()))
            tick += 1.0
            with urllib.request.urlopen(api, timeout=5) as r:
                value = int(float(json.load(r)["data"]["result"][0]["value"][1]))
            now = time.time()
            if last is not None and value > last:
                with lock:
                    latencies.extend(now - set_at[k] for k in range(last + 1, value + 1))
            last = value if last is None else max(last, value)

    pollers = [threading.Thread(target=poll, args=(i / 10,)) for i in range(10)]
    for t in pollers:
        t.start()
    for t in pollers:
        t.join()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"prometheus_samples {len(latencies)}")
    print(f"prometheus_new_value_visible_p50_ms {pick(0.5) * 1000:.0f}")
    print(f"prometheus_new_value_visible_p99_ms {pick(0.99) * 1000:.0f}")
    print(f"prometheus_new_value_visible_max_ms {latencies[-1] * 1000:.0f}")
finally:
    prometheus.terminate()
    prometheus.wait()
