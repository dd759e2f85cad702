"""Exceptions raised by the Platform SDK.

The server answers every failed request with an RFC 7807 ProblemDetails body.
These classes keep that body's fields as attributes so callers can branch on
them, and render them into a message that a person can act on.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, Dict, List, Mapping, Optional, Type

# Bodies that are not ProblemDetails (a proxy's HTML page, a stack trace) can be
# long; the first part is enough to recognise what answered.
NON_JSON_DETAIL_LIMIT = 500


class ConfigurationError(Exception):
    """The SDK could not find an API URL or access key to use."""


class PlatformConnectionError(ConnectionError):
    """The platform could not be reached at all (refused, DNS, timeout, TLS)."""

    def __init__(self, url: str, reason: object) -> None:
        """Build the error for ``url``; ``reason`` is the underlying cause."""
        self.url = url
        self.reason = reason
        super().__init__(f"could not reach the platform at {url}: {reason}")

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Rebuild from the fields, so the error survives pickling (multiprocessing).
        return (type(self), (self.url, self.reason))


class PlatformError(Exception):
    """The platform answered with an error status.

    Attributes mirror the ProblemDetails body: ``status``, ``title``,
    ``detail``, ``errors`` (field name -> list of messages), ``trace_id`` and
    ``problem`` (the whole parsed body, or an empty dict when it was not JSON).
    """

    def __init__(
        self,
        status: int,
        title: Optional[str] = None,
        detail: Optional[str] = None,
        errors: Optional[Mapping[str, Any]] = None,
        trace_id: Optional[str] = None,
        problem: Optional[Dict[str, Any]] = None,
    ) -> None:
        """Create the error from the fields of a ProblemDetails body."""
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = _normalise_errors(errors)
        self.trace_id = trace_id
        self.problem = dict(problem) if problem else {}
        super().__init__(self._render())

    def _render(self) -> str:
        head = str(self.status)
        if self.title:
            head += f" {self.title}"
        parts = [head]
        if self.detail and self.detail != self.title:
            parts.append(self.detail)
        message = ": ".join(parts)
        for field, messages in self.errors.items():
            label = field if field else "(request)"
            message += f"\n  {label}: " + "; ".join(messages)
        if self.trace_id:
            message += f"\n  (trace id {self.trace_id})"
        return message

    def __str__(self) -> str:
        """Status, title, detail and one line per field error."""
        return self._render()

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Rebuild from the fields, so the error survives pickling (multiprocessing).
        return (type(self), (self.status, self.title, self.detail, self.errors, self.trace_id, self.problem))


class BadRequestError(PlatformError):
    """400: the request was malformed or failed validation."""


class AuthenticationError(PlatformError):
    """401: the access key is missing, unknown, expired or revoked."""


class PermissionDeniedError(PlatformError):
    """403: the key is valid but may not do this (scope, role or ownership)."""


class NotFoundError(PlatformError):
    """404: the thing asked for does not exist or is not visible to the caller."""


class ConflictError(PlatformError):
    """409: the request clashes with the current state (duplicate name, stale version)."""


class PayloadTooLargeError(PlatformError):
    """413: the request body is over the server's limit."""


class RateLimitError(PlatformError):
    """429: too many requests; try again later."""


class ServerError(PlatformError):
    """5xx: the platform failed while handling the request."""


_BY_STATUS: Dict[int, Type[PlatformError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
}


def error_class_for(status: int) -> Type[PlatformError]:
    """Return the most specific PlatformError subclass for an HTTP status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 500 <= status <= 599:
        return ServerError
    return PlatformError


def error_from_response(status: int, body: bytes) -> PlatformError:
    """Turn a non-2xx response into the matching PlatformError.

    ProblemDetails JSON gives every field; anything else still keeps the status
    and the start of the body, so the caller sees what answered.
    """
    cls = error_class_for(status)
    text = body.decode("utf-8", errors="replace")
    problem: Any = None
    if text.strip():
        try:
            problem = json.loads(text)
        except ValueError:
            problem = None
    if not isinstance(problem, dict):
        detail = text.strip()[:NON_JSON_DETAIL_LIMIT] or None
        return cls(status=status, title=_reason_phrase(status), detail=detail)
    return cls(
        # The transport status is authoritative; a body claiming another one is
        # kept in ``problem`` but does not change which class is raised.
        status=status,
        title=_optional_str(problem.get("title")),
        detail=_optional_str(problem.get("detail")),
        errors=problem.get("errors") if isinstance(problem.get("errors"), dict) else None,
        trace_id=_optional_str(problem.get("traceId")),
        problem=problem,
    )


def _optional_str(value: Any) -> Optional[str]:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _normalise_errors(errors: Optional[Mapping[str, Any]]) -> Dict[str, List[str]]:
    # ASP.NET sends lists of strings, but a single string is accepted too so a
    # hand-written server or proxy cannot make the error itself crash.
    result: Dict[str, List[str]] = {}
    for field, messages in (errors or {}).items():
        if isinstance(messages, (list, tuple)):
            result[str(field)] = [str(m) for m in messages]
        else:
            result[str(field)] = [str(messages)]
    return result


def _reason_phrase(status: int) -> Optional[str]:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None
