"""platformsdk.metrics against the real Api and PostgreSQL, run by tests/Notebook.Tests (SdkMetricsAgainstApiTests).

Not named test_*.py: the deployment harness (SdkAgainstApiTests) discovers test_*.py with its own environment; this
module needs PLATFORM_TEST_OWNER_KEY (an access key: scripts), PLATFORM_TEST_NOTEBOOK_KEY (a deployment's workload
key: notebooks) and PLATFORM_TEST_JOB_ID / PLATFORM_TEST_JOB_KEY (a running job's key: jobs).

The outage is real: the SDK talks to the Api through a TCP relay in this process that the test takes down (the
listening socket and every open connection) and brings back on the same port.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from contextlib import redirect_stderr
from typing import Any, Dict, List, Optional

import platformsdk
from platformsdk import metrics

SDK_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise unittest.SkipTest(f"{name} is not set: run these through tests/Notebook.Tests (SdkMetricsAgainstApiTests)")
    return value


class Relay:
    """A TCP relay 127.0.0.1:port -> the Api, which can be taken down (an outage) and brought back on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: Optional[socket.socket] = None
        self._sockets: List[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> "Relay":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class LiveMetrics(unittest.TestCase):
    def setUp(self) -> None:
        self.url = _env("PLATFORM_API_URL").rstrip("/")
        self.owner_key = _env("PLATFORM_TEST_OWNER_KEY")
        self.owner = platformsdk.Client(api_url=self.url, api_key=self.owner_key)

    def run_(self, **options: Any) -> metrics.Run:
        options.setdefault("api_url", self.url)
        options.setdefault("api_key", self.owner_key)
        options.setdefault("finish_at_exit", False)
        run = metrics.Run(**options)
        self.addCleanup(self._close, run)
        return run

    @staticmethod
    def _close(run: metrics.Run) -> None:
        run._abort.set()
        run._stop_thread(1.0)
        run._closed = True
        run._close_connection()
        metrics._RUNS.discard(run)

    def get_run(self, run_id: str, client: Optional[platformsdk.Client] = None) -> Dict[str, Any]:
        return (client or self.owner).request("GET", f"/runs/{run_id}")

    def series_of(self, run_id: str, name: str) -> Dict[str, Any]:
        answer = self.owner.request("GET", f"/runs/{run_id}/points", params={"series": name, "maxPoints": 100_000})
        (series,) = [s for s in answer["series"] if s["name"] == name]
        return series

    def test_a_script_logs_10000_steps_of_loss_and_accuracy_and_every_point_is_stored_once(self) -> None:
        folder = tempfile.mkdtemp(prefix="platform-board-")
        script = os.path.join(folder, "train_board.py")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(
                "import math, platformsdk\n"
                "for step in range(10_000):\n"
                "    platformsdk.log_metrics({'loss': math.exp(-step / 2000), 'accuracy': 1 - math.exp(-step / 1000)})\n"
                "platformsdk.draw_board('loss', 'accuracy', title='training')\n"
                "platformsdk.flush()\n"
                "print(platformsdk.current_run().id)\n"  # the run is finished at exit
            )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_")}
        env.update(PLATFORM_API_URL=self.url, PLATFORM_API_KEY=self.owner_key, PYTHONPATH=SDK_ROOT, HOME=folder)
        started = time.monotonic()
        done = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, timeout=120, cwd=folder)
        elapsed = time.monotonic() - started
        self.assertEqual(0, done.returncode, done.stderr)
        self.assertEqual("", done.stderr)
        run_id = done.stdout.strip()
        run = self.get_run(run_id)
        self.assertEqual(("train_board.py", "finished", None), (run["name"], run["state"], run["jobId"]))
        self.assertEqual(20_000, run["pointCount"])
        self.assertEqual(0, run["dropped"])
        by_name = {s["name"]: s for s in run["series"]}
        self.assertEqual({"loss", "accuracy"}, set(by_name))
        for name in ("loss", "accuracy"):
            self.assertEqual((10_000, 0, 9_999), (by_name[name]["pointCount"], by_name[name]["firstStep"], by_name[name]["lastStep"]))
        self.assertEqual([["loss", "accuracy"]], [g["series"] for g in run["graphs"] if g["title"] == "training"])
        loss = self.series_of(run_id, "loss")
        self.assertEqual(0, loss["level"])
        self.assertEqual(list(range(10_000)), loss["steps"])
        import math
        self.assertEqual([math.exp(-s / 2000) for s in range(10_000)], loss["values"])
        print(f"\n  10,000 steps x 2 series from a script, stored and finished: {elapsed:.2f} s wall (with interpreter start)",
              file=sys.stderr)

    def test_an_outage_mid_way_loses_nothing_and_stores_nothing_twice(self) -> None:
        host, port = self.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
        relay = Relay(host.strip("[]"), int(port)).start()
        self.addCleanup(relay.stop)
        run = self.run_(name="outage", api_url=f"http://127.0.0.1:{relay.port}")
        for step in range(5_000):
            run.log_metrics({"loss": 1 / (step + 1), "accuracy": step / 10_000})
        self.assertTrue(run.flush(30))
        relay.stop()
        for step in range(5_000, 10_000):
            run.log_metrics({"loss": 1 / (step + 1), "accuracy": step / 10_000})
        time.sleep(1.0)  # batches fail and back off meanwhile
        self.assertLess(run.sent, 20_000)
        relay.start()
        self.assertTrue(run.flush(30))
        self.assertEqual(0, run.dropped)
        info = self.get_run(run.id)
        self.assertEqual(20_000, info["pointCount"])
        self.assertEqual(list(range(10_000)), self.series_of(run.id, "loss")["steps"])
        self.assertGreaterEqual(run.connections, 2)

        # The same points again (a retry after a lost answer): all duplicates, nothing stored twice.
        for step in range(100):
            run.log_metric("loss", 1 / (step + 1), step=step)
        self.assertTrue(run.flush(30))
        self.assertEqual(100, run.duplicates)
        self.assertEqual(20_000, self.get_run(run.id)["pointCount"])

    def test_a_long_outage_drops_the_oldest_points_and_the_board_gets_the_count(self) -> None:
        host, port = self.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
        relay = Relay(host.strip("[]"), int(port)).start()
        self.addCleanup(relay.stop)
        run = self.run_(name="long outage", api_url=f"http://127.0.0.1:{relay.port}", max_buffer=1_000)
        run.log_metric("loss", 0.0)
        self.assertTrue(run.flush(30))
        relay.stop()
        stderr = io.StringIO()
        with redirect_stderr(stderr):
            for step in range(1, 3_001):
                run.log_metric("loss", float(step))
            # The buffer holds 1,000; the batch being retried when the relay went down (up to 1,000 more) is kept too.
            self.assertGreaterEqual(run.dropped, 1_000)
            self.assertLessEqual(run.dropped, 2_000)
            relay.start()
            self.assertTrue(run.flush(30))
        info = self.get_run(run.id)
        self.assertEqual((3_001 - run.dropped, run.dropped), (info["pointCount"], info["dropped"]))
        steps = self.series_of(run.id, "loss")["steps"]
        self.assertEqual(list(range(2_001, 3_001)), steps[-1_000:], "the newest points survive")
        self.assertEqual(3_001 - run.dropped, len(steps))
        self.assertIn(f"{run.dropped:,} points dropped while the platform was unreachable", stderr.getvalue())

    def test_a_400_from_the_server_is_reported_and_the_batch_discarded_without_retries(self) -> None:
        run = self.run_(name="refused")
        run.log_metric("loss", 1.0)
        self.assertTrue(run.flush(30))
        before = run.requests
        # A point the SDK itself would refuse (a 201-character name), put straight into the buffer: the server's check.
        with run._lock:
            run._buffer.append(("x" * 201, 0, 1.0, time.time(), False))
            run.logged += 1
        stderr = io.StringIO()
        with redirect_stderr(stderr):
            run._wake.set()
            self.assertTrue(run.flush(30))
        self.assertEqual(1, run.requests - before, "refused once, not retried")
        self.assertEqual(1, run.discarded)
        self.assertIn("refused a batch of 1 points", stderr.getvalue())
        self.assertIn("400", stderr.getvalue())
        self.assertIn("points[0].name", stderr.getvalue())
        run.log_metric("loss", 2.0)
        self.assertTrue(run.flush(30))
        self.assertEqual(2, self.get_run(run.id)["pointCount"])

    def test_a_notebook_logs_with_its_deployments_key(self) -> None:
        notebook = self.run_(name="analysis.ipynb", api_key=_env("PLATFORM_TEST_NOTEBOOK_KEY"))
        notebook.log_metrics({"loss": 0.5, "accuracy": 0.75})
        notebook.draw_board("loss", "accuracy")
        self.assertTrue(notebook.finish(30))
        info = self.get_run(notebook.id)  # the owner sees it among their runs
        self.assertEqual(("analysis.ipynb", "finished", 2), (info["name"], info["state"], info["pointCount"]))
        self.assertEqual(_env("PLATFORM_TEST_OWNER_ID"), info["ownerUserId"])
        mine = self.owner.request("GET", "/runs", params={"scope": "me", "kind": "experiment", "pageSize": 100})
        self.assertIn(notebook.id, [r["id"] for r in mine["items"]])

    def test_a_job_logs_to_its_own_run_and_a_resumed_job_continues_its_steps(self) -> None:
        job_id, job_key = _env("PLATFORM_TEST_JOB_ID"), _env("PLATFORM_TEST_JOB_KEY")
        first = self.run_(api_key=job_key, job_id=job_id)
        for step in range(10):
            first.log_metric("loss", 10 - step)
        self.assertTrue(first.flush(30))
        resumed = self.run_(api_key=job_key, job_id=job_id)  # the job's replica starts again
        for step in range(5):
            resumed.log_metric("loss", 0.5)
        self.assertTrue(resumed.flush(30))
        self.assertEqual(first.id, resumed.id)
        info = self.get_run(first.id)
        self.assertEqual((job_id, 15, 14), (info["jobId"], info["pointCount"], info["series"][0]["lastStep"]))
        by_job = self.owner.request("GET", f"/runs/by-job/{job_id}")
        self.assertEqual(first.id, by_job["id"])


class Latency(unittest.TestCase):
    def test_points_logged_at_500_a_second_are_accepted_within_the_budget(self) -> None:
        url, key = _env("PLATFORM_API_URL").rstrip("/"), _env("PLATFORM_TEST_OWNER_KEY")
        run = metrics.Run("latency", api_url=url, api_key=key, finish_at_exit=False)
        run.log_metric("warmup", 0.0)
        self.assertTrue(run.flush(30))
        run._delays.clear()
        started = time.monotonic()
        for step in range(1_000):  # 2 series x 250 steps/s = 500 points/s, for 4 s
            run.log_metrics({"loss": 1 / (step + 1), "accuracy": step / 1000})
            time.sleep(max(0.0, started + (step + 1) / 250 - time.monotonic()))
        self.assertTrue(run.flush(30))
        stats = run.stats()
        run.finish(30)
        metrics._RUNS.discard(run)
        print(f"\n  log_metric -> accepted by the Api at 500 points/s: {json.dumps(stats['delay_ms'])} "
              f"({stats['requests']} requests, {stats['connections']} connection)", file=sys.stderr)
        self.assertEqual(2_001, stats["sent"])
        # The budget is 200 ms to the browser; the SDK's share (25 ms batching + the Api's insert) must be
        # well inside it even on a busy test machine with a Debug build.
        self.assertLess(stats["delay_ms"]["p50"], 200)


class Throughput(unittest.TestCase):
    def test_how_many_points_per_second_one_process_ships(self) -> None:
        url, key = _env("PLATFORM_API_URL").rstrip("/"), _env("PLATFORM_TEST_OWNER_KEY")
        run = metrics.Run("throughput", api_url=url, api_key=key, max_buffer=200_001, finish_at_exit=False,
                          flush_timeout=120)
        run.log_metric("warmup", 0.0)
        self.assertTrue(run.flush(30))
        started = time.perf_counter()
        for step in range(100_000):
            run.log_metric("loss", step * 0.5)
            run.log_metric("accuracy", step * 0.25)
        logged = time.perf_counter() - started
        self.assertTrue(run.flush(120))
        elapsed = time.perf_counter() - started
        run.finish(30)
        metrics._RUNS.discard(run)
        self.assertEqual(200_001, run.sent)
        figure = {"points": 200_000, "seconds": round(elapsed, 2), "points_per_s": round(200_000 / elapsed),
                  "log_metric_us": round(logged / 200_000 * 1e6, 2), "requests": run.requests,
                  "connections": run.connections}
        print(f"\n  shipping to the real Api: {json.dumps(figure)}", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
