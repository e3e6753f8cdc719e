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
from typing import Any, Dict, List, Literal, Mapping, Optional, Type

from . import _native
from ._results import Document, FhirField, FhirList, Field, WarningsField
from .client import AsyncHieClient, HieClient
from .fhir import Resource, from_dict

__all__ = ["Sandbox", "CheckIn"]



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
