"""A small real HTTP server that stores runs and points the way the platform's runs API does (for buffering tests).

It keeps points per (run, name, step) once, like the real ingestion (a retried batch inserts nothing twice), records
every request with its arrival time and the TCP connection it came on, and can be told to fail: be away (closed
port), answer 503/429, refuse with 400, or hang.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

try:
    from .support import TEST_KEY
except ImportError:  # started with tests/ as the top-level directory
    from support import TEST_KEY


@dataclass
class Request:
    method: str
    path: str
    body: Any
    at: float
    connection: int
    status: int = 0


class FakeRuns:
    def __init__(self, port: int = 0, api_key: str = TEST_KEY) -> None:
        self.api_key = api_key
        self.port = port
        self.lock = threading.Lock()
        self.runs: Dict[str, Dict[str, Any]] = {}
        self.points: Dict[Tuple[str, str, int], Tuple[Any, float]] = {}
        self.graphs: Dict[str, Dict[str, List[str]]] = {}
        self.dropped: Dict[str, int] = {}
        self.finished: List[str] = []
        self.requests: List[Request] = []
        # Failure modes: a list of statuses answered to the next point posts, one each (e.g. [503, 503, 429]).
        self.fail_points: List[int] = []
        self.refuse_points_with: Optional[int] = None
        self.hang_seconds = 0.0
        self.existing_series: List[Dict[str, Any]] = []  # what POST /runs reports for a job's existing run
        self._connections = 0
        self._open: set = set()
        self.server: Optional[ThreadingHTTPServer] = None
        self.thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- lifecycle: start, stop (an outage) and start again on the same port ---------------------------------------

    def start(self) -> "FakeRuns":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body go out in two writes: without this, Nagle's algorithm holds the body until the
            # client's delayed ACK (40 ms), and the fake would answer far slower than the real Api does.
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with fake.lock:
                    fake._connections += 1
                    self.connection_number = fake._connections
                    fake._open.add(self.connection)

            def do_POST(self) -> None:  # noqa: N802 - the base class's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = json.loads(raw) if raw else None
                request = Request("POST", self.path, body, time.time(), self.connection_number)
                with fake.lock:
                    fake.requests.append(request)
                status, answer = fake.answer(request, self.headers.get("Authorization"))
                request.status = status
                payload = json.dumps(answer).encode("utf-8") if answer is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            # A real outage: keep-alive connections die with the server, not only the listening socket.
            with self.lock:
                for sock in self._open:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                self._open.clear()
            assert self.thread is not None
            self.thread.join(5)
            self.server = None

    # ---- the API -----------------------------------------------------------------------------------------------------

    def answer(self, request: Request, authorization: Optional[str]) -> Tuple[int, Any]:
        if authorization != f"Bearer {self.api_key}":
            return 401, {"title": "Unauthorized", "status": 401}
        if self.hang_seconds:
            time.sleep(self.hang_seconds)
        parts = request.path.strip("/").split("/")  # api, v1, runs, {id}, points
        if parts[:3] != ["api", "v1", "runs"]:
            return 404, {"title": "Not Found", "status": 404}
        body = request.body or {}
        with self.lock:
            if len(parts) == 3:
                if body.get("jobId"):
                    for run in self.runs.values():
                        if run.get("jobId") == body["jobId"]:
                            return 200, run
                run = {"id": str(uuid.uuid4()), "name": body.get("name") or "experiment", "jobId": body.get("jobId"),
                       "state": "open", "series": list(self.existing_series) if body.get("jobId") else []}
                self.runs[run["id"]] = run
                return 201, run
            run_id, action = parts[3], parts[4] if len(parts) > 4 else ""
            if run_id not in self.runs:
                return 404, {"title": "Not Found", "status": 404, "detail": "Run not found."}
            if action == "points":
                if self.fail_points:
                    status = self.fail_points.pop(0)
                    return status, {"title": "Unavailable", "status": status}
                if self.refuse_points_with:
                    return self.refuse_points_with, {"title": "One or more validation errors occurred.", "status": 400,
                                                     "errors": {"points[0].name": ["The name is too long."]}}
                accepted = duplicates = 0
                for p in body["points"]:
                    key = (run_id, p["name"], p["step"])
                    if key in self.points:
                        duplicates += 1
                    else:
                        self.points[key] = (p["value"], p["at"])
                        accepted += 1
                self.dropped[run_id] = self.dropped.get(run_id, 0) + int(body.get("dropped") or 0)
                return 200, {"accepted": accepted, "duplicates": duplicates, "lastSteps": {}}
            if action == "graphs":
                self.graphs.setdefault(run_id, {})[body["title"]] = body["series"]
                return 200, {"title": body["title"], "series": body["series"], "position": 0}
            if action == "finish":
                self.finished.append(run_id)
                self.runs[run_id]["state"] = "finished"
                return 200, self.runs[run_id]
        return 404, {"title": "Not Found", "status": 404}

    # ---- what the tests read -----------------------------------------------------------------------------------------

    def series(self, run_id: str, name: str) -> List[Tuple[int, Any]]:
        with self.lock:
            return sorted((step, value) for (r, n, step), (value, _) in self.points.items() if r == run_id and n == name)

    def point_posts(self) -> List[Request]:
        with self.lock:
            return [r for r in self.requests if r.path.endswith("/points")]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.005)
        return predicate()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
