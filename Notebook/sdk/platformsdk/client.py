"""The HTTP client for the Platform REST API (``<api_url>/api/v1/...``)."""

from __future__ import annotations

import http.client
import json as _json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional

from ._version import __version__
from .config import Config, load_config
from .errors import PlatformConnectionError, error_from_response

if TYPE_CHECKING:
    from .datasets import Datasets
    from .deployments import Deployments
    from .jobs import Jobs
    from .models import Models

DEFAULT_TIMEOUT = 30.0
API_PREFIX = "/api/v1"
USER_AGENT = "platformsdk/{} python/{}.{}.{}".format(__version__, *sys.version_info[:3])


class Client:
    """A connection to one platform as one caller.

    Arguments win over the environment, which wins over the config file; see
    ``platformsdk.config`` for the details. ``timeout`` is in seconds and bounds
    connecting and each wait for data.
    """

    def __init__(
        self,
        api_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        config_path: Optional[str] = None,
    ) -> None:
        """Resolve the configuration now, so a missing key fails before any call."""
        self.config: Config = load_config(api_url=api_url, api_key=api_key, config_path=config_path)
        self.timeout = timeout
        self._opener = urllib.request.build_opener(
            _SameHostAuthRedirectHandler(self.config.api_key), _EarlyAnswerHTTPHandler(), _EarlyAnswerHTTPSHandler())

    @property
    def api_url(self) -> str:
        """The platform's base URL, without a trailing slash."""
        return self.config.api_url

    def __repr__(self) -> str:
        """Show where the client points, never its key."""
        return f"Client(api_url={self.api_url!r})"

    def url_for(self, path: str, params: Optional[Mapping[str, Any]] = None) -> str:
        """Return the absolute URL for an API path such as ``/me`` or ``/api/v1/me``."""
        if not path.startswith("/"):
            path = "/" + path
        if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            path = API_PREFIX + path
        url = self.api_url + path
        query = _encode_params(params)
        return f"{url}?{query}" if query else url

    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """Call the API and return the parsed JSON answer.

        ``path`` is relative to ``/api/v1`` (``"/me"``); ``json`` is sent as the
        body; ``params`` become the query string (None values are left out,
        lists repeat the key, booleans are ``true``/``false``). An empty answer
        (such as 204) gives None and a non-JSON answer gives its text.

        Raises a PlatformError subclass for an error status and
        PlatformConnectionError when the platform cannot be reached.
        """
        data = None
        headers = {"Accept": "application/json"}
        if json is not None:
            data = _json.dumps(json).encode("utf-8")
            headers["Content-Type"] = "application/json"
        url = self.url_for(path, params)
        response = self.request_raw(method, path, body=data, headers=headers, params=params)
        try:
            with response:
                body = response.read()
                content_type = response.headers.get("Content-Type", "")
        except OSError as exc:
            # Raised while reading the body: a reset connection or a read timeout.
            raise PlatformConnectionError(url, exc) from exc
        return _decode_body(body, content_type)

    def request_raw(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        params: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """Send a request and return the open response for the caller to stream.

        ``body`` may be bytes or a readable binary file object; for a file
        object pass ``Content-Length`` in ``headers`` so it is sent as one
        streamed body rather than chunked. The caller must close the response
        (it is a context manager). Error statuses raise PlatformError
        subclasses parsed from the ProblemDetails body, like ``request``.
        """
        url = self.url_for(path, params)
        all_headers = {"User-Agent": USER_AGENT}
        all_headers.update(headers or {})
        req = urllib.request.Request(url, data=body, headers=all_headers, method=method.upper())
        # Unredirected, so urllib never forwards the key to another host; the
        # redirect handler puts it back only for the same host.
        req.add_unredirected_header("Authorization", f"Bearer {self.config.api_key}")
        try:
            return self._opener.open(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            try:
                error_body = exc.read()
            except OSError:
                error_body = b""
            finally:
                exc.close()
            raise error_from_response(exc.code, error_body) from None
        except urllib.error.URLError as exc:
            raise PlatformConnectionError(url, exc.reason) from exc
        except OSError as exc:
            # A reset while sending a streamed body or a read timeout on the status line.
            raise PlatformConnectionError(url, exc) from exc

    @property
    def datasets(self) -> "Datasets":
        """The datasets API: create, upload, publish, list and download; see ``platformsdk.datasets``."""
        from .datasets import Datasets  # imported late: datasets imports this module

        return Datasets(self)

    @property
    def models(self) -> "Models":
        """The models API: register a folder, versions, aliases, metadata and download; see ``platformsdk.models``."""
        from .models import Models  # imported late: models imports this module through datasets

        return Models(self)

    @property
    def deployments(self) -> "Deployments":
        """The deployments API: create, list, start, stop, delete, events, wait and share; see ``platformsdk.deployments``."""
        from .deployments import Deployments  # imported late, like the others

        return Deployments(self)

    @property
    def jobs(self) -> "Jobs":
        """The jobs API: submit, preview, list, get, logs (with follow), stop, clone, wait; see ``platformsdk.jobs``."""
        from .jobs import Jobs  # imported late, like the others

        return Jobs(self)

    def whoami(self) -> Dict[str, Any]:
        """Return who the key belongs to: ``GET /api/v1/me``.

        The answer holds ``user`` (id, email, displayName, isPlatformAdmin),
        ``accounts`` (id, name, role), ``currentAccountId`` and ``accessKey``
        (id, name, scope, expiresAt, or None when no access key was used).
        """
        result = self.request("GET", "/me")
        if not isinstance(result, dict):
            raise TypeError(f"expected a JSON object from {self.url_for('/me')}, got {type(result).__name__}")
        return result


def default_client(timeout: float = DEFAULT_TIMEOUT) -> Client:
    """Return a Client configured only from the environment and config file.

    A new client each time, so a notebook that changes ``PLATFORM_*`` variables
    sees the change on its next call.
    """
    return Client(timeout=timeout)


def whoami() -> Dict[str, Any]:
    """Return ``GET /api/v1/me`` for the default client; see ``Client.whoami``."""
    return default_client().whoami()


class _SameHostAuthRedirectHandler(urllib.request.HTTPRedirectHandler):
    # The front door may redirect (http -> https, a trailing slash); the key
    # follows only when the host stays the same.
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self._api_key = api_key

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new_req = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new_req is not None:
            old_host = urllib.parse.urlsplit(req.full_url).hostname
            new_host = urllib.parse.urlsplit(new_req.full_url).hostname
            if old_host is not None and old_host == new_host:
                new_req.add_unredirected_header("Authorization", f"Bearer {self._api_key}")
        return new_req


class _EarlyAnswerMixin:
    # A server may answer a streamed upload before reading it all (413 over
    # quota, 401) and close the connection; sending then fails with a broken
    # pipe that would hide the answer. Stop sending and let urllib read the
    # answer that is already on the wire; if there is none, reading it fails
    # and the caller still gets a connection error.
    def request(self, method, url, body=None, headers={}, **kwargs):  # type: ignore[no-untyped-def]  # noqa: B006
        try:
            super().request(method, url, body, headers, **kwargs)  # type: ignore[misc]
        except (BrokenPipeError, ConnectionResetError):
            # Only for streamed bodies: the headers went out, so an answer may be waiting.
            if not hasattr(body, "read"):
                raise


class _EarlyAnswerHTTPConnection(_EarlyAnswerMixin, http.client.HTTPConnection):
    pass


class _EarlyAnswerHTTPSConnection(_EarlyAnswerMixin, http.client.HTTPSConnection):
    pass


class _EarlyAnswerHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):  # type: ignore[no-untyped-def]
        return self.do_open(_EarlyAnswerHTTPConnection, req)


class _EarlyAnswerHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):  # type: ignore[no-untyped-def]
        return self.do_open(_EarlyAnswerHTTPSConnection, req, context=self._context)


def _encode_params(params: Optional[Mapping[str, Any]]) -> str:
    if not params:
        return ""
    pairs = []
    for key, value in params.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item is None:
                continue
            if isinstance(item, bool):
                # ASP.NET binds "true"/"false"; Python's "True" would also work
                # there, but other servers behind the proxy may be stricter.
                item = "true" if item else "false"
            pairs.append((str(key), str(item)))
    return urllib.parse.urlencode(pairs)


def _decode_body(body: bytes, content_type: str) -> Any:
    if not body.strip():
        return None
    text = body.decode("utf-8", errors="replace")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type and "json" not in media_type:
        return text
    try:
        return _json.loads(text)
    except ValueError:
        return text
