"""The embedded HIE sandbox: HIE's FHIR API, Jitsi token service, Notification API and
Encounter publishing, in this process — the way to try the whole VC workflow, and what the
package's own tests use besides a real broker.

>>> with Sandbox() as sb:                                     # doctest: +SKIP
...     sb.client.update(appointment)
...     sb.check_in(appointment.id)
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any, Dict, List, Literal, Mapping, NamedTuple, Optional, Sequence, Tuple, Type, Union

from . import _native
from ._results import Document, FhirField, FhirList, Field, WarningsField
from .client import AsyncHieClient, HieClient
from .fhir import Resource, from_dict

__all__ = ["Sandbox", "CheckIn", "Record", "ServiceStats"]


class Record(NamedTuple):
    """A record on a topic of the sandbox's in-process broker."""

    topic: str
    partition: int
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]
    headers: List[Tuple[str, Optional[bytes]]]
    timestamp: Optional[int]
    """Milliseconds since the epoch."""


class ServiceStats(NamedTuple):
    """Request counters of one sandbox service."""

    requests: int
    """Requests received."""
    failed: int
    """Requests answered with an injected error status."""
    dropped: int
    """Connections closed because the service was down."""


class CheckIn(Document):
    """What a check-in did: the Encounter HIE created and where it was published."""

    __slots__ = ()
    encounter = FhirField[Resource]("encounter", "The Encounter (holds the vc-token).")
    created = Field[bool]("created", "Whether the Encounter is new (False: checked in before).")
    encounter_id = Field[str]("encounterId", "The Encounter's id.")
    vc_type = Field[str]("vcType", "``VCI`` or ``VCE``.")
    delivery = Field[Optional[Dict[str, Any]]](
        "delivery", "Where it was published, ``{topic, partition, offset}`` (None: published before)."
    )

    def __repr__(self) -> str:  # the token is a credential
        return f"CheckIn(encounter_id={self.encounter_id!r}, created={self.created!r})"


class Sandbox:
    """A running sandbox; a context manager that closes it."""

    def __init__(
        self,
        *,
        kafka_bootstrap: Optional[str] = None,
        kafka_properties: Optional[Mapping[str, str]] = None,
        topic: Optional[str] = None,
        payload: Optional[Literal["encounter", "bundle"]] = None,
        validate: Optional[bool] = None,
        check_references: Optional[bool] = None,
        allow_delete: Optional[bool] = None,
        require_profile_claim: Optional[bool] = None,
        notify_email: Optional[str] = None,
        notify_password: Optional[str] = None,
        jitsi_domain: Optional[str] = None,
    ) -> None:
        opts = {k: v for k, v in locals().items() if k != "self" and v is not None}
        if kafka_properties is not None:
            opts["kafka_properties"] = dict(kafka_properties)
        self._sb = _native.Sandbox(json.dumps(opts))
        self._client: Optional[HieClient] = None

    @property
    def url(self) -> str:
        """The sandbox's base URL."""
        return str(self._sb.url)

    @property
    def fhir_base(self) -> str:
        """Its FHIR API's base URL."""
        return str(self._sb.fhir_base)

    @property
    def client(self) -> HieClient:
        """A blocking HIE client of this sandbox."""
        if self._client is None:
            self._client = HieClient._wrap(self._sb.client())
        return self._client

    def async_client(self) -> AsyncHieClient:
        """An asyncio HIE client of this sandbox."""
        return AsyncHieClient._wrap(self._sb.client())

    def check_in(self, appointment_id: str, *, patient_id: Optional[str] = None) -> CheckIn:
        """Checks the patient in (as the RekodSaya app does): HIE creates the Encounter and
        publishes it."""
        return CheckIn._from_json(self._sb.check_in(appointment_id, patient_id))

    def set_faults(
        self,
        service: Literal["fhir", "jitsi", "notify"],
        *,
        latency_ms: int = 0,
        rate_limited: float = 0.0,
        unavailable: float = 0.0,
        fail_next: int = 0,
        fail_status: int = 503,
        retry_after_secs: Optional[int] = None,
        down: bool = False,
    ) -> None:
        """Sets one service's fault switches (replacing the previous ones)."""
        faults = {k: v for k, v in locals().items() if k not in ("self", "service") and v is not None}
        self._sb.set_faults(service, json.dumps(faults))

    def clear_faults(self) -> None:
        """Clears every fault switch."""
        self._sb.clear_faults()

    def resource(self, resource_type: str, id: str) -> Optional[Resource]:
        """A stored resource, or None."""
        text = self._sb.resource(resource_type, id)
        return None if text is None else from_dict(json.loads(text))

    def notifications(self) -> List[Dict[str, Any]]:
        """The notifications the Notification API received."""
        return list(json.loads(self._sb.notifications()))

    def jitsi_sessions(self) -> List[Dict[str, Any]]:
        """The Jitsi sessions the token service holds."""
        return list(json.loads(self._sb.jitsi_sessions()))

    def stats(self) -> Dict[str, ServiceStats]:
        """Request counters of each service (``fhir``, ``jitsi``, ``notify``) since the
        sandbox started: e.g. how many requests a retry policy made."""
        return {k: ServiceStats(**v) for k, v in json.loads(self._sb.stats()).items()}

    def publish(
        self,
        value: Union[bytes, str, None],
        *,
        key: Union[bytes, str, None] = None,
        headers: Sequence[Tuple[str, Union[bytes, str]]] = (),
        topic: Optional[str] = None,
        partition: Optional[int] = None,
    ) -> Tuple[str, int, int]:
        """Appends a raw record to a topic of the in-process broker (the check-in topic by
        default; ``value=None`` is a tombstone) and returns ``(topic, partition, offset)``:
        how to try a handler on what HIE would not send (a poison payload, other headers).
        Only for a sandbox without ``kafka_bootstrap``."""
        return self._sb.publish(
            _bytes(value),
            _bytes(key),
            [(k, b) for k, v in headers if (b := _bytes(v)) is not None],
            topic,
            partition,
        )

    def topic_records(self, topic: str) -> List[Record]:
        """Every record of a topic of the in-process broker (e.g. the dead-letter topic), in
        partition then offset order."""
        return [Record(topic, *r) for r in self._sb.topic_records(topic)]

    def close(self) -> None:
        """Stops the sandbox (idempotent)."""
        self._sb.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Sandbox({self.url!r})"


def _bytes(v: Union[bytes, str, None]) -> Optional[bytes]:
    return v.encode() if isinstance(v, str) else v
