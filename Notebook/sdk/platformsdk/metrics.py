"""Live training metrics: ``log_metric`` / ``log_metrics`` / ``draw_board``, shipped to the platform's boards.

::

    import platformsdk as plat
    for step in range(10_000):
        loss, acc = train_one_step()
        plat.log_metrics({"loss": loss, "accuracy": acc})     # step=None: each series' next step (0, 1, 2, ...)
    plat.draw_board("loss", "accuracy", title="training")     # one chart grouping both series
    plat.finish()                                             # optional: done at exit anyway

Module-level functions use a default run, created on first use: inside a job (``PLATFORM_JOB_ID``) the job's run,
else a run named after the notebook or script (``sys.argv[0]``); ``init_run(name)`` starts a named one.
``Run`` objects have the same methods, for several runs in one process.

How it behaves (docs/boards-design.md, "SDK"):

- ``log_metric`` never blocks on the network: it validates the name at once (``ValueError``), converts the value with
  ``float()`` (ints, bools, numpy scalars, 0-d tensors), takes ``at = time.time()`` and appends to a bounded buffer
  (``max_buffer``, default 100,000 points): about a microsecond.
- A daemon thread sends what is buffered once its oldest point has waited 25 ms (``flush_interval``; at once when it
  waited through the previous request) or as soon as 1,000 points wait
  (``batch_size``), in batches of at most 10,000 (``max_batch``), over one persistent HTTP connection. NaN and the
  infinities travel as ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
- While the platform is away (connection errors, 5xx, 429) a batch is retried with exponential backoff (0.1 s doubling,
  capped at 5 s); the server stores each (series, step) once, so a retry never duplicates. Any other answer (400, 401,
  403, 404) is reported on stderr and the batch discarded; the count is in ``Run.discarded``.
- When the buffer is full the oldest points are dropped and counted; the count travels with the next accepted batch as
  ``dropped`` (the board shows it) and stderr says so once: never silently lost.
- At exit the buffer is flushed for up to ``flush_timeout`` seconds (default 10; ``PLATFORM_METRICS_FLUSH_TIMEOUT``) and
  the run is marked finished; points still unsent then are reported on stderr.
- Fork (DataLoader workers, multiprocessing): a child process starts with an empty buffer and its own sender thread on
  first use, logging to the same run (the parent ships what it had buffered). Steps are counted per process, so log
  distinct series (or explicit steps) from children.
- Steps: ``step=None`` gives the series' next step; after an explicit step the series continues from it. In a job's
  run that already holds points (a resubmitted job) automatic steps continue after the server's last step.
"""

from __future__ import annotations

import atexit
import collections
import http.client
import json
import math
import os
import random
import sys
import threading
import time
import urllib.parse
import weakref
from typing import Any, Deque, Dict, List, Mapping, Optional, Tuple

from ._version import __version__
from .config import load_config

ENV_JOB_ID = "PLATFORM_JOB_ID"
ENV_FLUSH_TIMEOUT = "PLATFORM_METRICS_FLUSH_TIMEOUT"
MAX_NAME = 200
DEFAULT_MAX_BUFFER = 100_000
DEFAULT_BATCH_SIZE = 1_000
DEFAULT_MAX_BATCH = 10_000
DEFAULT_FLUSH_INTERVAL = 0.025
DEFAULT_FLUSH_TIMEOUT = 10.0
BACKOFF_START = 0.1
BACKOFF_CAP = 5.0
_USER_AGENT = "platformsdk/{} python/{}.{}.{}".format(__version__, *sys.version_info[:3])

# (name, step, value, at, automatic step)
_Point = Tuple[str, int, float, float, bool]


class _Retryable(Exception):
    """The platform is away (no connection, 5xx, 429): try again later."""

    def __init__(self, reason: str, retry_after: Optional[float] = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Refused(Exception):
    """The platform answered a status that retrying will not change (400, 401, 403, 404...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_name(name: Any, what: str = "metric name") -> str:
    """Return ``name`` if the platform accepts it (1..200 characters, no control characters), else raise ValueError."""
    if not isinstance(name, str):
        raise ValueError(f"a {what} must be a string, got {type(name).__name__}")
    if not 1 <= len(name) <= MAX_NAME:
        raise ValueError(f"a {what} must be 1 to {MAX_NAME} characters, got {len(name)}: {name[:40]!r}")
    for char in name:
        code = ord(char)
        if code < 32 or 127 <= code < 160:
            raise ValueError(f"a {what} may not hold control characters: {name!r}")
    return name


def _check_step(step: Any) -> int:
    if isinstance(step, bool):
        raise ValueError(f"a step must be an integer >= 0, got {step!r}")
    try:
        value = step.__index__()  # int, numpy integers, 0-d integer tensors
    except (AttributeError, TypeError):
        raise ValueError(f"a step must be an integer >= 0, got {step!r}") from None
    if value < 0:
        raise ValueError(f"a step must be an integer >= 0, got {value}")
    return value


def _encode_value(value: float) -> str:
    if value != value:
        return '"NaN"'
    if value == math.inf:
        return '"Infinity"'
    if value == -math.inf:
        return '"-Infinity"'
    return repr(value)


def _default_name() -> Optional[str]:
    """The notebook's file (Jupyter sets JPY_SESSION_NAME) or the script's name; None: the server's default."""
    session = os.environ.get("JPY_SESSION_NAME", "").strip()
    if session:
        return os.path.basename(session)[:MAX_NAME] or None
    argv0 = sys.argv[0] if sys.argv else ""
    base = os.path.basename(argv0)
    if not base or base in ("-c", "-m") or base.startswith("ipykernel") or base == "__main__.py":
        return None
    return base[:MAX_NAME]


def _warn(message: str) -> None:
    try:
        print(f"platformsdk: {message}", file=sys.stderr, flush=True)
    except Exception:  # noqa: BLE001 - stderr closed at shutdown: nothing better to do
        pass


class Run:
    """One run on the platform: its metrics, buffered and sent in the background.

    ``Run()`` resolves the configuration at once (``ConfigurationError`` if no key) but makes no request: the run is
    created by the sender thread on first use (``POST /api/v1/runs``), so a slow or absent platform never stalls the
    caller. ``job_id`` defaults to ``$PLATFORM_JOB_ID`` (the job's own run); ``name`` to the notebook or script name.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        *,
        job_id: Optional[str] = None,
        run_id: Optional[str] = None,
        api_url: Optional[str] = None,
        api_key: Optional[str] = None,
        client: Any = None,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch: int = DEFAULT_MAX_BATCH,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        flush_timeout: Optional[float] = None,
        request_timeout: float = 30.0,
        finish_at_exit: bool = True,
    ) -> None:
        """Prepare the run; nothing is sent until the first point, graph, ``flush`` or ``finish``."""
        config = client.config if client is not None else load_config(api_url=api_url, api_key=api_key)
        if name is not None:
            check_name(name, "run name")
        if max_buffer < 1 or batch_size < 1 or max_batch < 1:
            raise ValueError("max_buffer, batch_size and max_batch must be at least 1")
        self.name = name if name is not None else _default_name()
        self.job_id = job_id if job_id is not None else (os.environ.get(ENV_JOB_ID, "").strip() or None)
        self.id: Optional[str] = run_id
        self.max_buffer = max_buffer
        self.batch_size = min(batch_size, max_batch)
        self.max_batch = max_batch
        self.flush_interval = flush_interval
        if flush_timeout is None:
            flush_timeout = float(os.environ.get(ENV_FLUSH_TIMEOUT, "") or DEFAULT_FLUSH_TIMEOUT)
        self.flush_timeout = flush_timeout
        self.request_timeout = request_timeout
        self.finish_at_exit = finish_at_exit
        self._url = urllib.parse.urlsplit(config.api_url)
        self._prefix = self._url.path.rstrip("/") + "/api/v1"
        self._headers = {
            "Authorization": f"Bearer {config.api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }
        # Counters, all under _lock: logged, accepted by the server, dropped from a full buffer, discarded on a refusal.
        self.logged = 0
        self.sent = 0
        self.duplicates = 0
        self.dropped = 0
        self.discarded = 0
        self.requests = 0
        self.connections = 0
        self._names: set = set()
        self._quoted: Dict[str, str] = {}
        self._next_step: Dict[str, int] = {}
        self._offsets: Dict[str, int] = {}  # the server's last step + 1 per series of a resumed run
        self._graphs: List[Tuple[str, List[str]]] = []
        self._closed = False  # finished: the next point re-opens it
        self._disabled: Optional[str] = None  # why nothing can be sent (the run could not be created)
        self._forked = False
        self._init_process_state()
        _RUNS.add(self)

    # ---- state that a forked child rebuilds ------------------------------------------------------------------------

    def _init_process_state(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._progress = threading.Condition(threading.Lock())
        self._wake = threading.Event()
        self._stop = False
        self._flush_waiters = 0
        self._abort = threading.Event()
        self._buffer: Deque[_Point] = collections.deque()
        self._delays: Deque[float] = collections.deque(maxlen=20_000)
        self._in_flight = 0
        self._dropped_unreported = 0
        self._drop_warned = False
        self._refusals_warned: set = set()
        self._thread: Optional[threading.Thread] = None
        self._conn: Optional[http.client.HTTPConnection] = None

    def _after_fork_in_child(self) -> None:
        # The parent ships what it had buffered; the child starts empty with its own lock, thread and connection.
        inherited = getattr(self, "_conn", None)
        if inherited is not None and inherited.sock is not None:
            try:
                inherited.sock.close()  # only this process's copy of the descriptor; the parent's stays open
            except OSError:
                pass
        self._init_process_state()
        self.logged = self.sent = self.duplicates = self.dropped = self.discarded = 0
        self._graphs = []
        self.finish_at_exit = False  # a worker's end is not the run's end: the parent finishes it
        self._forked = True

    # ---- the caller's side: cheap, never touches the network ---------------------------------------------------------

    def log_metric(self, name: str, value: Any, step: Optional[int] = None) -> None:
        """Buffer one point of series ``name``; ``step`` None: the series' next step. Returns at once."""
        at = time.time()
        if name not in self._names:
            self._names.add(check_name(name))
        if type(value) is not float:
            if isinstance(value, (str, bytes)):
                raise TypeError(f"the value of {name!r} must be a number, got {type(value).__name__}")
            value = float(value)
        explicit = None if step is None else _check_step(step)
        with self._lock:
            if explicit is None:
                step = self._next_step.get(name, 0)
            else:
                step = explicit
            self._next_step[name] = step + 1
            buffer = self._buffer
            if len(buffer) >= self.max_buffer:
                buffer.popleft()
                self.dropped += 1
                self._dropped_unreported += 1
            buffer.append((name, step, value, at, explicit is None))
            self.logged += 1
            waiting = len(buffer)
        if waiting == 1 or waiting == self.batch_size:
            self._wake.set()
        if self._thread is None:  # first use, after finish(), or in a forked child (the fork hook clears it)
            self._start()

    def log_metrics(self, metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
        """``log_metric`` for each item of ``metrics``; ``step`` None: each series' own next step."""
        for name, value in metrics.items():
            self.log_metric(name, value, step)

    def draw_board(self, *metrics: Any, title: Optional[str] = None) -> None:
        """Declare a graph grouping these series (names, or objects with a ``name`` as PaddlePaddle's evaluators).

        ``title`` defaults to the names joined with commas. Sent in the background like points; the same title again
        replaces the graph's series.
        """
        names = []
        for metric in metrics:
            if isinstance(metric, (list, tuple)):
                names.extend(check_name(getattr(m, "name", m)) for m in metric)
            else:
                names.append(check_name(getattr(metric, "name", metric)))
        if not names:
            raise ValueError("draw_board needs at least one metric name")
        if title is None:
            title = ", ".join(names)[:MAX_NAME]
        check_name(title, "graph title")
        with self._lock:
            self._graphs.append((title, names))
        self._wake.set()
        if self._thread is None or self._pid != os.getpid():
            self._start()

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until everything logged so far was accepted, dropped or discarded; False if ``timeout`` ran out first."""
        timeout = self.flush_timeout if timeout is None else timeout
        with self._lock:
            target = self.logged
            graphs = bool(self._graphs)
        if target == 0 and not graphs:
            return True
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._start()
        deadline = time.monotonic() + timeout
        with self._lock:
            self._flush_waiters += 1  # the sender sends at once, without waiting for the interval, while this waits
        try:
            with self._progress:
                while True:
                    with self._lock:
                        done = self._settled() >= target and not self._graphs and (self.id is not None or self._disabled)
                    if done:
                        return True
                    self._wake.set()
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._progress.wait(min(left, 0.05))
        finally:
            with self._lock:
                self._flush_waiters -= 1

    def finish(self, timeout: Optional[float] = None) -> bool:
        """Flush, stop the sender and mark the run finished (``POST /runs/{id}/finish``); True if all of it worked.

        Logging to the run afterwards re-opens it.
        """
        timeout = self.flush_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        flushed = self.flush(timeout)
        stopped = self._stop_thread(max(0.0, deadline - time.monotonic()))
        ok = flushed and stopped
        if stopped and self.id is not None and self._disabled is None:
            try:
                self._request_with_retry("POST", f"/runs/{self.id}/finish", b"{}", deadline)
            except _Refused as exc:
                _warn(f"could not mark run {self.id} finished: {exc}")
                ok = False
            except _Retryable as exc:
                _warn(f"could not mark run {self.id} finished: {exc}")
                ok = False
        self._report_unsent()
        self._closed = True
        self._close_connection()
        return ok

    def __enter__(self) -> "Run":
        """``with Run("sweep-1") as run:`` finishes the run at the end of the block."""
        return self

    def __exit__(self, *exc: Any) -> None:
        """Finish the run."""
        self.finish()

    def __repr__(self) -> str:
        """Name and id, never the key."""
        return f"Run(name={self.name!r}, id={self.id!r}, job_id={self.job_id!r})"

    def stats(self) -> Dict[str, Any]:
        """Counters (logged, sent, duplicates, dropped, discarded, waiting, requests, connections) and delivery delays.

        ``delay_ms`` holds the p50, p99 and max of the time from ``log_metric`` to the server's acceptance, sampled on
        the oldest and newest point of each recent batch.
        """
        with self._lock:
            delays = sorted(self._delays)
            result: Dict[str, Any] = {
                "logged": self.logged, "sent": self.sent, "duplicates": self.duplicates, "dropped": self.dropped,
                "discarded": self.discarded, "waiting": len(self._buffer) + self._in_flight,
                "requests": self.requests, "connections": self.connections,
            }
        if delays:
            def pick(q: float) -> float:
                return round(delays[min(len(delays) - 1, int(q * len(delays)))] * 1000, 1)
            result["delay_ms"] = {"p50": pick(0.5), "p99": pick(0.99), "max": round(delays[-1] * 1000, 1),
                                  "samples": len(delays)}
        return result

    def _settled(self) -> int:
        return self.sent + self.duplicates + self.dropped + self.discarded

    # ---- the sender thread -------------------------------------------------------------------------------------------

    def _start(self) -> None:
        with _START_LOCK:
            if self._pid != os.getpid():
                self._after_fork_in_child()
            if self._thread is not None and self._thread.is_alive():
                return
            if self._forked and "multiprocessing" in sys.modules:
                # multiprocessing's workers leave through os._exit, which skips atexit: flush through its finalizers
                # (registered now, after its bootstrap cleared the ones inherited from the parent).
                self._forked = False
                try:
                    from multiprocessing import util

                    util.Finalize(None, _flush_one_at_exit, args=(weakref.ref(self),), exitpriority=100)
                except Exception:  # noqa: BLE001 - without it a worker's last points may stay unsent
                    pass
            self._stop = False
            self._abort.clear()
            self._closed = False
            thread = threading.Thread(target=self._loop, name=f"platformsdk-metrics-{self.name}", daemon=True)
            self._thread = thread
            try:
                thread.start()
            except RuntimeError:
                # At interpreter shutdown no thread may start; the exit flush then sends from the exiting thread.
                self._thread = None

    def _stop_thread(self, timeout: float) -> bool:
        """Let the sender drain and stop (abort it after ``timeout``); True when it is gone."""
        thread = self._thread
        self._stop = True
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                self._abort.set()
                thread.join(1.0)
            if thread.is_alive():
                return False  # stuck in a request: its connection is not ours to use
        self._thread = None
        return True

    def _loop(self) -> None:
        try:
            while not self._abort.is_set():
                self._wake.clear()
                with self._lock:
                    idle = not self._buffer and not self._graphs
                if idle:
                    if self._stop:
                        return
                    self._wake.wait(1.0)
                    continue
                left = self._wait_left()
                if left > 0:
                    self._wake.wait(left)
                self._ship()
        except Exception as exc:  # noqa: BLE001 - a bug here must not kill training silently
            _warn(f"the metrics sender stopped: {exc!r}")
        finally:
            self._notify()

    def _ship(self, deadline: Optional[float] = None) -> None:
        """Create the run if needed, then send the graphs and every buffered point; retries inside."""
        if not self._ensure_run(deadline):
            return
        while not self._abort.is_set():
            with self._lock:
                graphs, self._graphs = self._graphs, []
            for title, names in graphs:
                body = json.dumps({"title": title, "series": names}).encode("utf-8")
                try:
                    self._request_with_retry("POST", f"/runs/{self.id}/graphs", body, deadline)
                except _Refused as exc:
                    self._report_refusal(exc, f"the graph {title!r}")
                except _Retryable:
                    with self._lock:
                        self._graphs[:0] = [(title, names)]
                    return
            with self._lock:
                buffer = self._buffer
                empty = not buffer
                if empty:
                    batch = []
                elif len(buffer) <= self.max_batch:
                    batch = list(buffer)
                    buffer.clear()
                else:
                    batch = [buffer.popleft() for _ in range(self.max_batch)]
                dropped = self._dropped_unreported
                self._in_flight = len(batch)
            if empty:
                self._notify()  # outside _lock: flush() holds _progress while it takes _lock
                return
            self._send_batch(batch, dropped, deadline)
            if deadline is None and self._buffer and self._wait_left() > 0:
                return  # what came in meanwhile is young: the loop waits for its interval (or a full batch)

    def _wait_left(self) -> float:
        """How long the buffer may still collect: until its oldest point (or, empty, the next one) has waited one
        interval; nothing once a full batch is there or a flush or the stop waits. Points that waited through the
        previous request go at once: a slow server gets bigger batches, not a later send; a fast one gets at most one
        request per interval."""
        with self._lock:
            buffer = self._buffer
            if len(buffer) >= self.batch_size or self._stop or self._flush_waiters > 0:
                return 0.0
            oldest = buffer[0][3] if buffer else time.time()
            return max(0.0, self.flush_interval - (time.time() - oldest))

    def _send_batch(self, batch: List[_Point], dropped: int, deadline: Optional[float]) -> None:
        offsets = self._offsets
        quoted = self._quoted
        parts = []
        for name, step, value, at, automatic in batch:
            if automatic and offsets:
                step += offsets.get(name, 0)
            q = quoted.get(name)
            if q is None:
                q = quoted[name] = json.dumps(name)
            v = repr(value) if value - value == 0 else _encode_value(value)  # NaN - NaN and inf - inf are NaN
            parts.append(f'{{"name":{q},"step":{step},"value":{v},"at":{at!r}}}')
        body = ('{"points":[' + ",".join(parts) + '],"dropped":%d}' % dropped).encode("utf-8")
        try:
            answer = self._request_with_retry("POST", f"/runs/{self.id}/points", body, deadline)
        except _Refused as exc:
            with self._lock:
                self.discarded += len(batch)
                self._in_flight = 0
            self._report_refusal(exc, f"a batch of {len(batch)} points")
            self._notify()
            return
        except _Retryable:
            # Only with a deadline (the exit flush): put the batch back for the unsent count.
            with self._lock:
                self._buffer.extendleft(reversed(batch))
                self._in_flight = 0
            return
        duplicates = 0
        if isinstance(answer, dict):
            duplicates = min(len(batch), max(0, int(answer.get("duplicates") or 0)))
        accepted_at = time.time()
        with self._lock:
            self.sent += len(batch) - duplicates
            self.duplicates += duplicates
            # The batch's oldest point waited longest: from its log_metric to the server's answer.
            self._delays.append(accepted_at - batch[0][3])
            self._delays.append(accepted_at - batch[-1][3])
            self._dropped_unreported -= dropped
            self._in_flight = 0
            total_dropped = self.dropped
        if dropped and not self._drop_warned:
            self._drop_warned = True
            _warn(f"{total_dropped:,} points dropped while the platform was unreachable "
                  f"(the oldest; the buffer holds {self.max_buffer:,}); the board shows the count")
        self._notify()

    def _ensure_run(self, deadline: Optional[float] = None) -> bool:
        if self._disabled is not None:
            self._discard_all()
            return False
        if self.id is not None:
            return True
        body: Dict[str, Any] = {}
        if self.job_id:
            body["jobId"] = self.job_id
        elif self.name:
            body["name"] = self.name
        try:
            answer = self._request_with_retry("POST", "/runs", json.dumps(body).encode("utf-8"), deadline)
        except _Refused as exc:
            self._disabled = str(exc)
            _warn(f"could not open a run on the platform, metrics are discarded: {exc}")
            self._discard_all()
            return False
        except _Retryable:
            return False
        if not isinstance(answer, dict) or not answer.get("id"):
            self._disabled = f"unexpected answer to POST /runs: {answer!r}"[:300]
            _warn(self._disabled)
            self._discard_all()
            return False
        offsets = {}
        for series in answer.get("series") or []:
            if isinstance(series, dict) and series.get("lastStep") is not None:
                offsets[series["name"]] = int(series["lastStep"]) + 1
        self._offsets = offsets
        self.id = str(answer["id"])
        return True

    def _discard_all(self) -> None:
        with self._lock:
            self.discarded += len(self._buffer)
            self._buffer.clear()
            self._graphs = []
        self._notify()

    def _notify(self) -> None:
        with self._progress:
            self._progress.notify_all()

    def _report_refusal(self, exc: "_Refused", what: str) -> None:
        key = (exc.status, str(exc))
        if key in self._refusals_warned:
            return
        self._refusals_warned.add(key)
        _warn(f"the platform refused {what} for run {self.id} and it was discarded (not retried): {exc}")

    def _report_unsent(self) -> None:
        with self._lock:
            unsent = len(self._buffer) + self._in_flight
            dropped = self.dropped
        if unsent:
            _warn(f"{unsent:,} points of run {self.name or self.id} were not sent: the platform was unreachable "
                  f"({self._url.scheme}://{self._url.netloc})")
        if dropped and not self._drop_warned:
            self._drop_warned = True
            _warn(f"{dropped:,} points dropped while the platform was unreachable")

    # ---- HTTP: one persistent connection, retries with backoff ---------------------------------------------------------

    def _request_with_retry(self, method: str, path: str, body: bytes, deadline: Optional[float]) -> Any:
        delay = BACKOFF_START
        fresh_retry = True
        while True:
            try:
                timeout = self.request_timeout
                if deadline is not None:
                    timeout = min(timeout, max(0.05, deadline - time.monotonic()))
                return self._request(method, path, body, timeout)
            except _Retryable as exc:
                if fresh_retry and isinstance(exc.__cause__, (http.client.RemoteDisconnected, BrokenPipeError,
                                                               ConnectionResetError)):
                    # A keep-alive connection the server had closed: once more at once on a new one.
                    fresh_retry = False
                    continue
                fresh_retry = True
                wait = delay * (0.5 + random.random() / 2)
                if exc.retry_after is not None:
                    wait = max(wait, min(exc.retry_after, BACKOFF_CAP))
                delay = min(delay * 2, BACKOFF_CAP)
                if deadline is not None and time.monotonic() + wait > deadline:
                    raise
                if self._abort.wait(wait):
                    raise

    def _request(self, method: str, path: str, body: bytes, timeout: float) -> Any:
        conn = self._conn
        if conn is None:
            cls = http.client.HTTPSConnection if self._url.scheme == "https" else http.client.HTTPConnection
            conn = cls(self._url.hostname or "127.0.0.1", self._url.port, timeout=timeout)
            self._conn = conn
            self.connections += 1
        elif conn.timeout != timeout:
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
        try:
            self.requests += 1
            conn.request(method, self._prefix + path, body=body, headers=self._headers)
            response = conn.getresponse()
            payload = response.read()
            status = response.status
            if response.will_close:
                self._close_connection()
        except (OSError, http.client.HTTPException) as exc:
            self._close_connection()
            raise _Retryable(f"could not reach the platform: {exc!r}") from exc
        if 200 <= status < 300:
            if not payload.strip():
                return None
            try:
                return json.loads(payload)
            except ValueError:
                return None
        message = _problem_message(status, payload)
        if status == 429 or status >= 500:
            retry_after = None
            try:
                retry_after = float(response.headers.get("Retry-After") or "")
            except ValueError:
                pass
            raise _Retryable(message, retry_after)
        raise _Refused(status, message)

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    # ---- exit ----------------------------------------------------------------------------------------------------------

    def _flush_at_exit(self) -> None:
        if self._pid != os.getpid():
            return
        with self._lock:
            pending = self.logged > self._settled() or bool(self._graphs)
        if not pending and (self._closed or self.logged == 0):
            return  # finished already, or never used in this process (a forked worker that logged nothing)
        deadline = time.monotonic() + self.flush_timeout
        stopped = True
        if self._thread is not None and self._thread.is_alive():
            self.flush(self.flush_timeout)
            stopped = self._stop_thread(max(0.0, deadline - time.monotonic()))
        else:
            # No sender thread (it cannot start at shutdown): send from here, bounded by the deadline.
            self._ship(deadline)
        if stopped and self.finish_at_exit and self.id is not None and self._disabled is None \
                and time.monotonic() < deadline:
            try:
                self._request_with_retry("POST", f"/runs/{self.id}/finish", b"{}", deadline)
            except (_Refused, _Retryable):
                pass
        self._report_unsent()
        self._closed = True
        self._close_connection()


def _problem_message(status: int, payload: bytes) -> str:
    text = payload.decode("utf-8", errors="replace")
    try:
        problem = json.loads(text)
    except ValueError:
        return f"{status}: {text.strip()[:300]}"
    if not isinstance(problem, dict):
        return f"{status}: {text.strip()[:300]}"
    message = f"{status} {problem.get('title') or ''}".strip()
    if problem.get("detail"):
        message += f": {problem['detail']}"
    errors = problem.get("errors")
    if isinstance(errors, dict):
        for field, messages in list(errors.items())[:5]:
            if isinstance(messages, list):
                messages = "; ".join(str(m) for m in messages)
            message += f" [{field}: {messages}]"
    return message


# ---- module level: the default run ------------------------------------------------------------------------------------

_RUNS: "weakref.WeakSet[Run]" = weakref.WeakSet()
_START_LOCK = threading.RLock()
_DEFAULT_LOCK = threading.Lock()
_default: Optional[Run] = None


def _flush_one_at_exit(ref: "weakref.ref[Run]") -> None:
    run = ref()
    if run is not None:
        run._flush_at_exit()


def _flush_all_at_exit() -> None:
    for run in list(_RUNS):
        try:
            run._flush_at_exit()
        except Exception as exc:  # noqa: BLE001 - one run's trouble must not stop the others' flush
            _warn(f"flushing run {run.name or run.id} at exit failed: {exc!r}")


def _after_fork() -> None:
    global _START_LOCK, _DEFAULT_LOCK
    _START_LOCK = threading.RLock()
    _DEFAULT_LOCK = threading.Lock()
    for run in list(_RUNS):
        run._after_fork_in_child()


atexit.register(_flush_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def init_run(name: Optional[str] = None, **options: Any) -> Run:
    """Start a new run (named ``name``; inside a job: the job's run) and make it the module functions' default.

    ``options`` are ``Run``'s (``max_buffer``, ``flush_timeout``, ``api_url``...). The previous default run, if any,
    is finished first.
    """
    global _default
    run = Run(name, **options)
    with _DEFAULT_LOCK:
        previous, _default = _default, run
    if previous is not None:
        previous.finish()
    return run


def current_run() -> Run:
    """The default run, created on first use (see ``init_run``)."""
    global _default
    run = _default
    if run is None:
        with _DEFAULT_LOCK:
            if _default is None:
                _default = Run()
            run = _default
    return run


def log_metric(name: str, value: Any, step: Optional[int] = None) -> None:
    """Log one point of series ``name`` to the default run; see ``Run.log_metric``."""
    (_default or current_run()).log_metric(name, value, step)


def log_metrics(metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
    """Log several series at once to the default run; see ``Run.log_metrics``."""
    (_default or current_run()).log_metrics(metrics, step)


def draw_board(*metrics: Any, title: Optional[str] = None) -> None:
    """Declare a graph of the default run grouping these series; see ``Run.draw_board``."""
    current_run().draw_board(*metrics, title=title)


def flush(timeout: Optional[float] = None) -> bool:
    """Wait until the default run's points are sent; see ``Run.flush``."""
    return True if _default is None else _default.flush(timeout)


def finish(timeout: Optional[float] = None) -> bool:
    """Finish the default run (flush, then mark it finished); the next ``log_metric`` starts a new default run."""
    global _default
    with _DEFAULT_LOCK:
        run, _default = _default, None
    return True if run is None else run.finish(timeout)


__all__ = ["Run", "init_run", "current_run", "log_metric", "log_metrics", "draw_board", "flush", "finish",
           "check_name"]
