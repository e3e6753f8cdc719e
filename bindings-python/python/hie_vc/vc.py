"""The VC workflow: schedule, book, start (when the Encounter arrives), finish — each step
idempotent, so a failed run resumes where it stopped (the error's ``completed_steps`` say
where). Blocking (:class:`VirtualConsultation`) and asyncio (:class:`AsyncVirtualConsultation`).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import _native
from ._results import Document, FhirField, FhirList, Field, WarningsField
from .fhir import Resource, resource_json
from .listener import EncounterEvent
from .mycore import VcEncounter

__all__ = [
    "VirtualConsultation",
    "AsyncVirtualConsultation",
    "Practitioner",
    "Scheduled",
    "Booked",
    "Started",
    "Finished",
]

ResourceArg = Union[Resource, Mapping[str, Any], str, bytes]
Practitioner = Mapping[str, str]
"""The practitioner who joins: ``{"id", "name", "email"?, "avatar"?}`` (role ``practitioner``)."""


class Scheduled(Document):
    """The Schedule and Slots written."""

    __slots__ = ()


class Booked(Document):
    """An Appointment booked."""

    __slots__ = ()
    appointment_id = Field[str]("appointmentId", "The Appointment id.")
    slot = Field[Optional[Dict[str, Any]]]("slot", "``{id, quota, available}`` when booked into a Slot.")


class Started(Document):
    """A session started: the practitioner's join (a credential) and who was notified."""

    __slots__ = ()
    activated_now = Field[bool]("activatedNow", "Whether this call activated the session.")
    notified = Field[List[str]]("notified", "Patients notified now.")
    already_notified = Field[List[str]]("alreadyNotified", "Patients notified before.")

    @property
    def encounter(self) -> VcEncounter:
        """The VC view of the Encounter."""
        return VcEncounter(self._data["encounter"])

    @property
    def practitioner_join(self) -> Dict[str, Any]:
        """``{role, room, url, token, expiresAtMs}`` — the URL and token are credentials."""
        join: Dict[str, Any] = self._data["practitionerJoin"]
        return join

    def __repr__(self) -> str:  # the join URL and token are credentials
        return f"Started(notified={self.notified!r}, activated_now={self.activated_now!r})"


class Finished(Document):
    """A session finished."""

    __slots__ = ()
    encounter_id = Field[str]("encounterId", "The Encounter id.")
    ended = Field[Optional[str]]("ended", "``ended``, ``not_running``, ``unsupported`` or None.")


def _practitioner(p: Practitioner) -> str:
    d = dict(p)
    d.setdefault("role", "practitioner")
    return json.dumps(d)


class _Base:
    _vc: Any

    @classmethod
    def from_settings(cls, path: Optional[str] = None, *, patient_id_systems: Optional[Sequence[str]] = None) -> Any:
        """From the ``[hie]``, ``[jitsi]``, ``[notify]`` and ``[vc]`` settings (TOML ``path`` or
        ``HIE_VC_CONFIG``, then ``HIE_VC_*``), as the CLI reads them."""
        self = cls.__new__(cls)
        self._vc = _native.Vc(None, path, True, list(patient_id_systems) if patient_id_systems else None)
        return self

    @classmethod
    def for_sandbox(cls, sandbox: Any, *, settings: Optional[Mapping[str, Mapping[str, Any]]] = None) -> Any:
        """The workflow on a :class:`~hie_vc.sandbox.Sandbox`'s services; ``settings``
        (sections as the TOML has them: ``hie``, ``jitsi``, ``notify``, ``vc``) go on top of
        the sandbox's own."""
        self = cls.__new__(cls)
        self._vc = sandbox._sb.vc(None if settings is None else json.dumps(settings))
        return self

    def __init__(self, settings: Mapping[str, Mapping[str, Any]], *, patient_id_systems: Optional[Sequence[str]] = None) -> None:
        """From settings sections as the CLI's TOML has them:
        ``{"hie": {...}, "jitsi": {...}, "notify": {...}, "vc": {...}}``."""
        self._vc = _native.Vc(json.dumps(settings), None, False, list(patient_id_systems) if patient_id_systems else None)

    def arrival_handler(self, practitioner: Practitioner) -> Callable[[EncounterEvent], Optional[Started]]:
        """A listener handler that starts each arriving VC session with ``practitioner`` (the
        core's handler: a failure that may pass is retried, others are dead-lettered)."""
        p = _practitioner(practitioner)

        def handle(event: EncounterEvent) -> Optional[Started]:
            text = self._vc.handle_arrival(event._e, p)
            return None if text is None else Started(json.loads(text))

        return handle


class VirtualConsultation(_Base):
    """The VC workflow, blocking."""

    def create_session(self) -> Dict[str, Any]:
        """VCE step 1: the Jitsi session (``{token, room}``) whose token ties the group."""
        data: Dict[str, Any] = json.loads(self._vc.create_session().wait())
        return data

    def schedule(self, schedule: ResourceArg, slots: Sequence[ResourceArg]) -> Scheduled:
        """PUTs the Schedule and its Slots in one transaction."""
        return Scheduled._from_json(self._vc.schedule(resource_json(schedule), [resource_json(s) for s in slots]).wait())

    def book(self, appointment: ResourceArg, *, slot_id: Optional[str] = None) -> Booked:
        """Books the Appointment (into ``slot_id`` in one transaction, when given)."""
        return Booked._from_json(self._vc.book(resource_json(appointment), slot_id).wait())

    def start(
        self, encounter: ResourceArg, *, practitioner: Practitioner, included: Sequence[ResourceArg] = ()
    ) -> Started:
        """Starts an arrived session (join, activate, notify). Idempotent."""
        return Started._from_json(
            self._vc.start(resource_json(encounter), _practitioner(practitioner), [resource_json(r) for r in included]).wait()
        )

    def finish(self, encounter_id: str) -> Finished:
        """Finishes the session (Encounter ``finished``, Jitsi session ended). Idempotent."""
        return Finished._from_json(self._vc.finish(encounter_id).wait())


class AsyncVirtualConsultation(_Base):
    """The VC workflow, awaitable on the caller's loop."""

    async def create_session(self) -> Dict[str, Any]:
        """As :meth:`VirtualConsultation.create_session`."""
        data: Dict[str, Any] = json.loads(await self._vc.create_session().start())
        return data

    async def schedule(self, schedule: ResourceArg, slots: Sequence[ResourceArg]) -> Scheduled:
        """As :meth:`VirtualConsultation.schedule`."""
        return Scheduled._from_json(
            await self._vc.schedule(resource_json(schedule), [resource_json(s) for s in slots]).start()
        )

    async def book(self, appointment: ResourceArg, *, slot_id: Optional[str] = None) -> Booked:
        """As :meth:`VirtualConsultation.book`."""
        return Booked._from_json(await self._vc.book(resource_json(appointment), slot_id).start())

    async def start(
        self, encounter: ResourceArg, *, practitioner: Practitioner, included: Sequence[ResourceArg] = ()
    ) -> Started:
        """As :meth:`VirtualConsultation.start`."""
        return Started._from_json(
            await self._vc.start(
                resource_json(encounter), _practitioner(practitioner), [resource_json(r) for r in included]
            ).start()
        )

    async def finish(self, encounter_id: str) -> Finished:
        """As :meth:`VirtualConsultation.finish`."""
        return Finished._from_json(await self._vc.finish(encounter_id).start())
