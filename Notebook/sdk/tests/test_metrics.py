"""platformsdk.metrics against a real local HTTP server (tests/fake_runs.py): batching, steps, encoding, retries and
backoff, drop counting under an outage, refusals, the exit flush, fork, and that log_metric never blocks."""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
import textwrap
import time
import unittest
from contextlib import redirect_stderr
from typing import Any

try:
    from . import support
    from .fake_runs import FakeRuns, free_port
except ImportError:  # started with tests/ as the top-level directory
    import support
    from fake_runs import FakeRuns, free_port

import platformsdk
from platformsdk import metrics


class Tensor0d:
    """Stands in for a 0-d torch tensor or numpy scalar: a number through __float__."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:
        return self.value


class Evaluator:
    """PaddlePaddle's evaluators carry a name; draw_board takes them as metrics."""

    def __init__(self, name: str) -> None:
        self.name = name


class MetricsTestCase(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = FakeRuns().start()
        self.addCleanup(self.fake.stop)
        os.environ["PLATFORM_API_URL"] = self.fake.url
        os.environ["PLATFORM_API_KEY"] = support.TEST_KEY
        self.stderr = io.StringIO()
        self.addCleanup(self._finish_default)

    def _finish_default(self) -> None:
        with redirect_stderr(io.StringIO()):
            platformsdk.finish(timeout=2)

    def run_(self, **options: Any) -> metrics.Run:
        options.setdefault("name", "unit")
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


class BatchingAndSteps(MetricsTestCase):
    def test_points_go_in_few_batches_with_steps_per_series_over_one_connection(self) -> None:
        run = self.run_()
        for i in range(2500):
            run.log_metrics({"loss": 1.0 / (i + 1), "accuracy": i / 2500})
        self.assertTrue(run.flush(10))
        self.assertEqual([(i, 1.0 / (i + 1)) for i in range(2500)], self.fake.series(run.id, "loss"))
        self.assertEqual(list(range(2500)), [s for s, _ in self.fake.series(run.id, "accuracy")])
        posts = self.fake.point_posts()
        self.assertLessEqual(len(posts), 20, "5,000 points logged at once go in a few batches")
        self.assertTrue(all(len(p.body["points"]) <= 10_000 for p in posts))
        self.assertEqual({1}, {r.connection for r in self.fake.requests}, "one persistent connection")
        self.assertEqual((5000, 0, 0), (run.sent, run.dropped, run.discarded))

    def test_a_lone_point_leaves_within_the_interval_not_when_a_batch_fills(self) -> None:
        run = self.run_()
        run.log_metric("warmup", 1)
        self.assertTrue(self.fake.wait_for(lambda: self.fake.point_posts(), 5))
        # Now the run exists; time one point from log_metric to the server.
        started = time.time()
        run.log_metric("loss", 0.5)
        self.assertTrue(self.fake.wait_for(lambda: len(self.fake.point_posts()) >= 2, 5))
        arrival = self.fake.point_posts()[1].at
        self.assertLess(arrival - started, 0.2, "the issue's budget is 200 ms end to end")
        self.assertAlmostEqual(started, self.fake.point_posts()[1].body["points"][0]["at"], delta=0.05)
        self.assertTrue(run.flush(5))  # the server has it; the SDK may still be reading the answer
        stats = run.stats()
        self.assertEqual((2, 2, 0, 0), (stats["logged"], stats["sent"], stats["dropped"], stats["waiting"]))
        self.assertLess(stats["delay_ms"]["max"], 200)

    def test_a_steady_stream_goes_at_most_once_an_interval_to_a_fast_server(self) -> None:
        # A fast server answers in a millisecond or two; the points logged meanwhile wait for their interval rather than
        # going at once, so a script logging 1,000 points/s makes about 40 requests a second, not one per answer.
        run = self.run_()
        run.log_metric("warmup", 1)
        self.assertTrue(run.flush(5))
        before = len(self.fake.point_posts())
        started = time.monotonic()
        step = 0
        while time.monotonic() - started < 1.0:
            due = int((time.monotonic() - started) * 1000)
            while step < due:
                step += 1
                run.log_metric("loss", step * 0.001)
            time.sleep(0.002)
        self.assertTrue(run.flush(5))
        posts = len(self.fake.point_posts()) - before
        self.assertLessEqual(posts, 1.0 / run.flush_interval + 5, f"{posts} requests in 1 s")
        self.assertGreaterEqual(posts, 10, "yet they keep going through the second, a batch per interval")
        self.assertEqual(step, len(self.fake.series(run.id, "loss")))
        self.assertLess(run.stats()["delay_ms"]["p99"], 200)

    def test_explicit_steps_are_kept_and_the_series_continues_after_them(self) -> None:
        run = self.run_()
        run.log_metric("loss", 1, step=10)
        run.log_metric("loss", 2)
        run.log_metric("other", 3)
        run.log_metrics({"loss": 4, "other": 5}, step=100)
        run.log_metric("other", 6)
        self.assertTrue(run.flush(5))
        self.assertEqual([(10, 1.0), (11, 2.0), (100, 4.0)], self.fake.series(run.id, "loss"))
        self.assertEqual([(0, 3.0), (100, 5.0), (101, 6.0)], self.fake.series(run.id, "other"))

    def test_a_resumed_job_run_continues_after_the_servers_last_step(self) -> None:
        self.fake.existing_series = [{"name": "loss", "pointCount": 42, "firstStep": 0, "lastStep": 41}]
        run = self.run_(job_id="11111111-2222-3333-4444-555555555555")
        run.log_metric("loss", 1.5)
        run.log_metric("loss", 2.5)
        run.log_metric("fresh", 7)
        self.assertTrue(run.flush(5))
        self.assertEqual([(42, 1.5), (43, 2.5)], self.fake.series(run.id, "loss"))
        self.assertEqual([(0, 7.0)], self.fake.series(run.id, "fresh"))
        self.assertEqual({"jobId": "11111111-2222-3333-4444-555555555555"}, self.fake.requests[0].body)


class Values(MetricsTestCase):
    def test_non_finite_values_travel_as_strings_and_numbers_of_every_kind_are_accepted(self) -> None:
        run = self.run_()
        for value in (math.nan, math.inf, -math.inf, True, 3, 2.5, Tensor0d(0.25), 10 ** 20):
            run.log_metric("v", value)
        self.assertTrue(run.flush(5))
        sent = [p["value"] for r in self.fake.point_posts() for p in r.body["points"]]
        self.assertEqual(["NaN", "Infinity", "-Infinity", 1.0, 3.0, 2.5, 0.25, 1e20], sent)

    def test_bad_names_steps_and_values_raise_at_once(self) -> None:
        run = self.run_()
        for bad in ("", "x" * 201, "a\nb", "tab\there", "\x7f", 5, None):
            with self.assertRaises(ValueError, msg=repr(bad)):
                run.log_metric(bad, 1.0)  # type: ignore[arg-type]
        for bad_step in (-1, 1.5, True, "3"):
            with self.assertRaises(ValueError, msg=repr(bad_step)):
                run.log_metric("loss", 1.0, step=bad_step)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            run.log_metric("loss", "0.5")
        with self.assertRaises((TypeError, ValueError)):
            run.log_metric("loss", object())
        with self.assertRaises(ValueError):
            run.draw_board()
        with self.assertRaises(ValueError):
            run.draw_board("loss", title="")
        self.assertEqual(0, run.logged)
        run.log_metric("x" * 200, 1.0)  # 200 characters is the limit, inclusive
        run.log_metric("ünïcode / ok", 1.0)
        self.assertTrue(run.flush(5))
        self.assertEqual(2, run.sent)


class Graphs(MetricsTestCase):
    def test_draw_board_posts_the_graph_with_names_or_paddle_style_objects(self) -> None:
        run = self.run_()
        run.log_metric("cost", 1.0)
        run.draw_board("cost", Evaluator("accuracy"), title="training")
        run.draw_board("cost", "lr")
        self.assertTrue(run.flush(5))
        self.assertEqual({"training": ["cost", "accuracy"], "cost, lr": ["cost", "lr"]}, self.fake.graphs[run.id])

    def test_module_functions_use_a_default_run_named_after_the_script_or_the_job(self) -> None:
        platformsdk.log_metric("loss", 0.1)
        platformsdk.log_metrics({"loss": 0.2, "acc": 0.5})
        platformsdk.draw_board("loss", "acc")
        run = platformsdk.current_run()
        self.assertTrue(platformsdk.flush(5))
        self.assertEqual({"name": os.path.basename(sys.argv[0])}, self.fake.requests[0].body)
        self.assertEqual([(0, 0.1), (1, 0.2)], self.fake.series(run.id, "loss"))
        self.assertTrue(platformsdk.finish(5))
        self.assertEqual([run.id], self.fake.finished)

        os.environ["PLATFORM_JOB_ID"] = "aaaaaaaa-2222-3333-4444-555555555555"
        platformsdk.log_metric("loss", 0.3)
        job_run = platformsdk.current_run()
        self.assertIsNot(run, job_run)
        self.assertTrue(platformsdk.flush(5))
        self.assertEqual({"jobId": "aaaaaaaa-2222-3333-4444-555555555555"}, self.fake.requests[-1].body
                         if self.fake.requests[-1].path == "/api/v1/runs" else
                         [r.body for r in self.fake.requests if r.path == "/api/v1/runs"][-1])

        del os.environ["PLATFORM_JOB_ID"]
        os.environ["JPY_SESSION_NAME"] = "/home/jovyan/work/analysis.ipynb"  # what Jupyter gives a notebook's kernel
        self.assertEqual("analysis.ipynb", metrics.Run().name)
        del os.environ["JPY_SESSION_NAME"]
        os.environ["PLATFORM_JOB_ID"] = "aaaaaaaa-2222-3333-4444-555555555555"

        named = platformsdk.init_run("sweep-7")
        self.assertIs(named, platformsdk.current_run())
        del os.environ["PLATFORM_JOB_ID"]


class Outages(MetricsTestCase):
    def test_server_errors_and_429_are_retried_with_growing_backoff_and_nothing_is_lost(self) -> None:
        self.fake.fail_points = [503, 503, 500, 429, 502]
        run = self.run_()
        for i in range(10):
            run.log_metric("loss", i)
        self.assertTrue(run.flush(15))
        self.assertEqual(list(range(10)), [s for s, _ in self.fake.series(run.id, "loss")])
        times = [r.at for r in self.fake.point_posts()]
        self.assertEqual(6, len(times))
        gaps = [b - a for a, b in zip(times, times[1:])]
        # 0.1 s doubling with jitter of up to half: each gap at least half the nominal one, and they grow.
        for gap, nominal in zip(gaps, (0.1, 0.2, 0.4, 0.8, 1.6)):
            self.assertGreaterEqual(gap, nominal * 0.5 - 0.01)
        self.assertGreater(gaps[-1], gaps[0])

    def test_while_the_platform_is_away_the_oldest_points_are_dropped_counted_and_reported_once(self) -> None:
        port = free_port()
        self.fake.stop()
        os.environ["PLATFORM_API_URL"] = f"http://127.0.0.1:{port}"
        run = self.run_(max_buffer=100)
        with redirect_stderr(self.stderr):
            started = time.perf_counter()
            for i in range(250):
                run.log_metric("loss", float(i))
            self.assertLess(time.perf_counter() - started, 0.5, "logging during an outage does not wait")
            self.assertEqual(150, run.dropped)
            time.sleep(0.3)  # a few failed attempts
            self.fake = FakeRuns(port=port).start()
            self.addCleanup(self.fake.stop)
            self.assertTrue(run.flush(15))
            run.log_metric("loss", 999.0)
            self.assertTrue(run.flush(5))
        self.assertEqual(list(range(150, 251)), [s for s, _ in self.fake.series(run.id, "loss")],
                         "the newest 100 survive, and the next point continues the steps")
        self.assertEqual({run.id: 150}, self.fake.dropped, "the count went with the next accepted batch, once")
        self.assertEqual(1, self.stderr.getvalue().count("points dropped while the platform was unreachable"))
        self.assertIn("150 points dropped", self.stderr.getvalue())

    def test_a_server_that_goes_away_mid_way_loses_nothing_and_duplicates_nothing(self) -> None:
        run = self.run_()
        port = self.fake.port
        for i in range(1000):
            run.log_metric("loss", i)
        self.assertTrue(run.flush(5))
        first = self.fake
        first.stop()
        for i in range(1000, 3000):
            run.log_metric("loss", i)
        time.sleep(0.3)
        second = FakeRuns(port=port)
        second.runs = first.runs
        second.points = first.points
        second.start()
        self.addCleanup(second.stop)
        self.assertTrue(run.flush(15))
        self.assertEqual(list(range(3000)), [s for s, _ in second.series(run.id, "loss")])
        self.assertEqual(0, run.dropped)
        self.assertGreaterEqual(run.connections, 2, "a new connection after the outage")

    def test_a_retried_batch_the_server_already_stored_counts_as_duplicates(self) -> None:
        run = self.run_()
        run.log_metric("loss", 1.0, step=0)
        self.assertTrue(run.flush(5))
        run.log_metric("loss", 1.0, step=0)
        self.assertTrue(run.flush(5))
        self.assertEqual((1, 1), (run.sent, run.duplicates))

    def test_a_refused_batch_is_reported_once_and_discarded_not_retried(self) -> None:
        self.fake.refuse_points_with = 400
        run = self.run_()
        with redirect_stderr(self.stderr):
            run.log_metric("loss", 1.0)
            self.assertTrue(run.flush(5))
            run.log_metric("loss", 2.0)
            self.assertTrue(run.flush(5))
        self.assertEqual(2, len(self.fake.point_posts()), "one request per batch: no retries")
        self.assertEqual(2, run.discarded)
        report = self.stderr.getvalue()
        self.assertEqual(1, report.count("refused"), report)
        self.assertIn("points[0].name: The name is too long.", report)
        self.fake.refuse_points_with = None
        run.log_metric("loss", 3.0)
        self.assertTrue(run.flush(5))
        self.assertEqual([(2, 3.0)], self.fake.series(run.id, "loss"), "later batches still go")

    def test_a_wrong_key_disables_the_run_with_one_message(self) -> None:
        run = self.run_(api_key="plat_wrong")
        with redirect_stderr(self.stderr):
            run.log_metric("loss", 1.0)
            self.assertTrue(run.flush(5))
            run.log_metric("loss", 2.0)
            self.assertTrue(run.flush(5))
        self.assertEqual(2, run.discarded)
        self.assertEqual(1, self.stderr.getvalue().count("could not open a run"))
        self.assertIn("401", self.stderr.getvalue())


class NeverBlocks(MetricsTestCase):
    def test_log_metric_costs_microseconds_even_when_the_server_hangs(self) -> None:
        self.fake.hang_seconds = 2.0
        run = self.run_(flush_timeout=0.5)
        calls = 200_000
        started = time.perf_counter()
        for i in range(calls):
            run.log_metric("loss", i)
        per_call = (time.perf_counter() - started) / calls
        print(f"\n  log_metric: {per_call * 1e6:.2f} µs per call over {calls:,} calls (server hanging)", file=sys.stderr)
        self.assertLess(per_call, 20e-6)
        self.assertEqual(100_000, run.dropped, "the buffer kept the newest 100,000")


class AtExit(MetricsTestCase):
    def python(self, code: str, timeout: float = 60) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONPATH=support.SDK_ROOT)
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                              timeout=timeout)

    def test_a_script_that_just_ends_has_its_points_flushed_and_the_run_finished(self) -> None:
        done = self.python("""
            import platformsdk
            for i in range(5000):
                platformsdk.log_metrics({"loss": 1 / (i + 1), "acc": i / 5000})
            platformsdk.draw_board("loss", "acc", title="training")
        """)
        self.assertEqual(0, done.returncode, done.stderr)
        self.assertEqual("", done.stderr)
        (run_id,) = self.fake.runs
        self.assertEqual(5000, len(self.fake.series(run_id, "loss")))
        self.assertEqual(5000, len(self.fake.series(run_id, "acc")))
        self.assertEqual({"training": ["loss", "acc"]}, self.fake.graphs[run_id])
        self.assertEqual([run_id], self.fake.finished)

    def test_the_live_board_example_runs(self) -> None:
        example = os.path.join(os.path.dirname(support.SDK_ROOT), "examples", "live-board", "train_board.py")
        env = dict(os.environ, PYTHONPATH=support.SDK_ROOT)
        done = subprocess.run([sys.executable, example, "--steps", "1000", "--rate", "0"], env=env, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(0, done.returncode, done.stderr)
        (run_id,) = self.fake.runs
        self.assertIn(f"to run {run_id} (2000 points stored, 0 dropped)", done.stdout)
        self.assertEqual("train_board.py", self.fake.runs[run_id]["name"])
        self.assertEqual({"training": ["loss", "accuracy"]}, self.fake.graphs[run_id])

    def test_the_exit_flush_gives_up_after_its_timeout_and_says_what_was_not_sent(self) -> None:
        os.environ["PLATFORM_API_URL"] = f"http://127.0.0.1:{free_port()}"
        os.environ["PLATFORM_METRICS_FLUSH_TIMEOUT"] = "1"
        started = time.monotonic()
        done = self.python("""
            import platformsdk
            for i in range(300):
                platformsdk.log_metric("loss", i)
        """)
        self.assertEqual(0, done.returncode, done.stderr)
        self.assertLess(time.monotonic() - started, 8)
        self.assertIn("300 points of run", done.stderr)
        self.assertIn("were not sent", done.stderr)

    def test_a_hanging_server_cannot_hold_the_exit_beyond_the_flush_timeout(self) -> None:
        self.fake.hang_seconds = 30
        os.environ["PLATFORM_METRICS_FLUSH_TIMEOUT"] = "1"
        started = time.monotonic()
        done = self.python("""
            import platformsdk
            platformsdk.log_metric("loss", 1.0)
        """)
        self.assertEqual(0, done.returncode, done.stderr)
        self.assertLess(time.monotonic() - started, 6)
        self.assertIn("were not sent", done.stderr)


@unittest.skipUnless(hasattr(os, "fork"), "fork is POSIX")
class Fork(MetricsTestCase):
    def test_a_forked_child_logs_through_its_own_sender_and_the_parent_keeps_its_points(self) -> None:
        run = self.run_()
        run.log_metric("parent", 1.0)
        self.assertTrue(run.flush(5))
        with run._lock:  # fork while the parent holds its lock: the child must not inherit it locked
            pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                run.log_metric("child", 2.0)
                code = 0 if run.flush(5) else 2
            finally:
                os._exit(code)
        run.log_metric("parent", 3.0)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(0, os.waitstatus_to_exitcode(status))
        self.assertTrue(run.flush(5))
        self.assertEqual([(0, 1.0), (1, 3.0)], self.fake.series(run.id, "parent"))
        self.assertEqual([(0, 2.0)], self.fake.series(run.id, "child"))

    def test_multiprocessing_workers_ship_their_points_at_exit_and_never_finish_the_parents_run(self) -> None:
        import multiprocessing

        run = self.run_()
        run.log_metric("parent", 1.0)
        self.assertTrue(run.flush(5))
        context = multiprocessing.get_context("fork")
        idle = context.Process(target=_idle_worker)
        idle.start()
        idle.join(30)
        busy = context.Process(target=_logging_worker, args=(run, 7))
        busy.start()
        busy.join(30)
        self.assertEqual((0, 0), (idle.exitcode, busy.exitcode))
        self.assertEqual([(0, 0.0), (1, 1.0), (2, 2.0)], self.fake.series(run.id, "worker-7"),
                         "multiprocessing leaves through os._exit: its finalizers flushed the worker's points")
        self.assertEqual([], self.fake.finished, "a worker's exit does not finish the parent's run")


def _idle_worker() -> None:
    pass


def _logging_worker(run: metrics.Run, number: int) -> None:
    for step in range(3):
        run.log_metric(f"worker-{number}", float(step))


if __name__ == "__main__":
    unittest.main()
