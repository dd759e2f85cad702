"""Shared test helpers: a real local HTTP server that answers like the platform.

Test modules import this first, so the SDK is importable however unittest was
started (from the repository root with -t, from Notebook/sdk, or on one file).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import unittest
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple, Union
from unittest import mock

SDK_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SDK_ROOT not in sys.path:
    sys.path.insert(0, SDK_ROOT)

TEST_KEY = "plat_test_0123456789abcdef"

ME = {
    "user": {
        "id": "0b4c6f2e-8a51-4f0e-9a57-3c1d2e4f5a6b",
        "email": "ada@example.org",
        "displayName": "Ada Lovelace",
        "isPlatformAdmin": True,
    },
    "accounts": [
        {"id": "acc-research", "name": "Research", "role": "master"},
        {"id": "acc-teaching", "name": "Teaching", "role": "viewer"},
    ],
    "currentAccountId": "acc-research",
    "accessKey": {"id": "key-1", "name": "laptop", "scope": "full", "expiresAt": "2030-01-01T00:00:00Z"},
}


@dataclass
class Reply:
    """What the fake server sends for one request."""

    status: int = 200
    body: Union[bytes, str, Any] = None
    content_type: str = "application/json; charset=utf-8"
    headers: Dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


def problem(status: int, title: str, detail: Optional[str] = None, **extra: Any) -> Reply:
    """A ProblemDetails reply shaped as ASP.NET Core writes it."""
    body: Dict[str, Any] = {"type": f"https://tools.ietf.org/html/rfc9110#status-{status}", "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return Reply(status=status, body=body, content_type="application/problem+json")


@dataclass
class Seen:
    """One request as the fake server received it."""

    method: str
    path: str
    headers: Dict[str, str]
    body: bytes


Route = Union[Reply, Callable[[Seen], Reply]]


class FakePlatform:
    """ThreadingHTTPServer on 127.0.0.1, port 0, checking the bearer key like the Api does."""

    def __init__(self, api_key: str = TEST_KEY) -> None:
        self.api_key = api_key
        self.routes: Dict[Tuple[str, str], Route] = {("GET", "/api/v1/me"): Reply(body=ME)}
        self.seen: List[Seen] = []
        # Tried in order when no exact route matches; each returns None to pass (path patterns).
        self.handlers: List[Callable[[Seen], Optional[Reply]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                fake.seen.append(seen)
                self._send(fake.answer(seen))

            def _send(self, reply: Reply) -> None:
                payload = reply.encoded()
                self.send_response(reply.status)
                if payload:
                    self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client that gave up (the timeout test) leaves a broken pipe; that is expected.
                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def answer(self, seen: Seen) -> Reply:
        """Authenticate like the platform (401 ProblemDetails), then route, then 404."""
        if seen.headers.get("Authorization") != f"Bearer {self.api_key}":
            return problem(401, "Unauthorized", "The access key is missing, unknown, expired or revoked.")
        route = self.routes.get((seen.method, seen.path.split("?", 1)[0]))
        if route is None:
            for handler in self.handlers:
                reply = handler(seen)
                if reply is not None:
                    return reply
            return problem(404, "Not Found", f"No endpoint at {seen.path}.")
        return route(seen) if callable(route) else route

    def __enter__(self) -> "FakePlatform":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def unused_port() -> int:
    """A port nothing listens on, for connection-refused tests."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class IsolatedTestCase(unittest.TestCase):
    """Clears PLATFORM_* and points HOME at a temporary folder, so no real config leaks in."""

    def setUp(self) -> None:
        super().setUp()
        self.home = tempfile.mkdtemp(prefix="platformsdk-home-")
        self.addCleanup(shutil.rmtree, self.home, ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_")}
        env["HOME"] = self.home
        env["USERPROFILE"] = self.home
        patcher = mock.patch.dict(os.environ, env, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)

    def start_platform(self, api_key: str = TEST_KEY) -> FakePlatform:
        """Start a FakePlatform that stops when the test ends."""
        fake = FakePlatform(api_key).__enter__()
        self.addCleanup(fake.__exit__, None, None, None)
        return fake

    def write_config(self, values: Any, path: Optional[str] = None) -> str:
        """Write a config file (default: ~/.config/platform/config.json under the temp HOME)."""
        path = path or os.path.join(self.home, ".config", "platform", "config.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(values if isinstance(values, str) else json.dumps(values))
        return path
