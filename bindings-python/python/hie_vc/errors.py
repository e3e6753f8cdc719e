"""The package's exceptions: one hierarchy under :class:`HieVcError`, mirroring the core's
error kinds. Every exception carries ``kind`` (the core's snake_case name), ``status`` (HTTP),
``request_id``, ``retryable``, ``retry_after`` (seconds), and for a VC workflow step failure
``step`` and ``completed_steps``. Messages never carry secrets or patient identifiers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Type

if TYPE_CHECKING:
    from .fhir import Resource
    from .mycore import Report

__all__ = [
    "HieVcError",
    "NotFound",
    "Gone",
    "PreconditionFailed",
    "Refused",
    "AuthError",
    "Unavailable",
    "RateLimited",
    "Timeout",
    "InvalidResource",
    "ReadError",
    "ConfigError",
    "InvalidInput",
    "KafkaError",
    "Closed",
    "HandlerError",
    "TlsError",
]


class HieVcError(Exception):
    """Base of every error the package raises."""

    kind: str
    """The core's error kind (``not_found``, ``validation``, ``transport`` ...)."""
    status: Optional[int]
    """The HTTP status, for an HTTP error."""
    request_id: Optional[str]
    """The ``X-Request-Id`` of the failed request (quote it to HIE support)."""
    retryable: bool
    """Whether trying again later may succeed."""
    retry_after: Optional[float]
    """How long the server asked to wait, in seconds."""
    location: Optional[str]
    """Where in the input the problem is (FHIRPath-like)."""
    step: Optional[str]
    """The VC workflow step that failed (``create_session``, ``notify`` ...)."""
    completed_steps: List[str]
    """The VC workflow steps done before it (resume from there)."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "other",
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        retryable: bool = False,
        retry_after: Optional[float] = None,
        location: Optional[str] = None,
        step: Optional[str] = None,
        completed_steps: Optional[List[str]] = None,
        outcome: Optional[Dict[str, Any]] = None,
        report: "Optional[Report]" = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.request_id = request_id
        self.retryable = retryable
        self.retry_after = retry_after
        self.location = location
        self.step = step
        self.completed_steps = list(completed_steps or [])
        self._outcome = outcome
        self._report = report
        self._info: Dict[str, Any] = {}

    @property
    def outcome(self) -> "Optional[Resource]":
        """The OperationOutcome the server sent, if any."""
        if self._outcome is None:
            return None
        from .fhir import from_dict

        return from_dict(self._outcome)

    def to_dict(self) -> Dict[str, Any]:
        """The error as the core's ``ErrorInfo`` document (camelCase keys, as every binding and
        the C ABI give it)."""
        return json.loads(json.dumps(self._info))  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        extra = f", status={self.status}" if self.status is not None else ""
        if self.step:
            extra += f", step={self.step!r}"
        return f"{type(self).__name__}({self.message!r}, kind={self.kind!r}{extra})"


class NotFound(HieVcError, LookupError):
    """HTTP 404: no such resource (or endpoint)."""


class Gone(HieVcError, LookupError):
    """HTTP 410: the resource was deleted."""


class PreconditionFailed(HieVcError):
    """HTTP 412: the version given in ``if_match`` is not the current one."""


class Refused(HieVcError):
    """The server refused the request (400, 405, 409, 413, 415, 422 and other 4xx); see
    :attr:`outcome` for its reasons."""


class AuthError(HieVcError):
    """HTTP 401 or 403: the credentials were refused or do not allow this."""


class Unavailable(HieVcError):
    """The server or the network failed (5xx, 429, connection errors, timeouts): retrying
    later may succeed."""


class RateLimited(Unavailable):
    """HTTP 429: too many requests; see :attr:`retry_after`."""


class Timeout(Unavailable, TimeoutError):
    """A time limit passed."""


class InvalidResource(HieVcError, ValueError):
    """MY Core validation failed before anything was sent; see :attr:`report`."""

    @property
    def report(self) -> "Optional[Report]":
        """The validation report: which rules failed, where."""
        return self._report


class ReadError(HieVcError, ValueError):
    """A document or message could not be decoded; see :attr:`location`."""


class ConfigError(HieVcError):
    """The configuration is incomplete or wrong."""


class InvalidInput(HieVcError, ValueError):
    """An argument is not what the operation accepts."""


class KafkaError(HieVcError):
    """A Kafka client error."""


class Closed(HieVcError):
    """The object was used after it was closed."""


class HandlerError(HieVcError):
    """A listener handler failed for good."""


class TlsError(HieVcError):
    """TLS failed: a certificate was not trusted, not issued for the host, or refused by the peer."""


_BY_KIND: Dict[str, Type[HieVcError]] = {
    "not_found": NotFound,
    "gone": Gone,
    "precondition_failed": PreconditionFailed,
    "bad_request": Refused,
    "method_not_allowed": Refused,
    "conflict": Refused,
    "payload_too_large": Refused,
    "unsupported_media_type": Refused,
    "unprocessable": Refused,
    "http": Refused,
    "unauthorized": AuthError,
    "forbidden": AuthError,
    "rate_limited": RateLimited,
    "server_error": Unavailable,
    "service_unavailable": Unavailable,
    "gateway_timeout": Unavailable,
    "transport": Unavailable,
    "timeout": Timeout,
    "decode": ReadError,
    "validation": InvalidResource,
    "config": ConfigError,
    "invalid_input": InvalidInput,
    "kafka": KafkaError,
    "closed": Closed,
    "handler": HandlerError,
    "tls": TlsError,
}


def _from_info(text: str, report: "Optional[Report]" = None) -> HieVcError:
    """Builds the exception for the core's ``ErrorInfo`` JSON (called by the native module)."""
    info = json.loads(text)
    kind = info.get("kind", "other")
    cls = _BY_KIND.get(kind, HieVcError)
    if cls is Refused and info.get("httpStatus") and int(info["httpStatus"]) >= 500:
        cls = Unavailable
    retry_ms = info.get("retryAfterMs")
    exc = cls(
        info.get("message", kind),
        kind=kind,
        status=info.get("httpStatus"),
        request_id=info.get("requestId"),
        retryable=bool(info.get("retryable", False)),
        retry_after=None if retry_ms is None else retry_ms / 1000.0,
        location=info.get("location"),
        step=info.get("step"),
        completed_steps=info.get("completedSteps") or [],
        outcome=info.get("operationOutcome"),
        report=report,
    )
    exc._info = info
    return exc
