"""MY Core for Virtual Consultation: builders (keyword arguments), validation and the VC view of
an Encounter — the core's own rules, the same in Rust, C, Python and Node."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _native
from ._native import Issue, Report
from ._results import Document, FhirField, FhirList, Field, WarningsField
from .fhir import Appointment, Bundle, Encounter, Resource, Schedule, Slot, from_dict, resource_json

__all__ = [
    "Issue",
    "Report",
    "VcEncounter",
    "validate",
    "vc_view",
    "vci_appointment",
    "vce_appointment",
    "appointment",
    "schedule",
    "slot",
    "scheduling_bundle",
    "booking_bundle",
    "finish_encounter",
]

ResourceArg = Union[Resource, Mapping[str, Any], str, bytes]
Party = Union[str, Mapping[str, str]]
"""A participant: its id, or ``{"id": ..., "display": ..., "type": "PractitionerRole"}``."""


def validate(
    resource: ResourceArg,
    *,
    accept_published_quirks: bool = False,
    profile_base: Optional[str] = None,
    require_profile_claim: bool = False,
    lenient: bool = False,
    deny_unknown: bool = False,
) -> Report:
    """Checks a resource against the MY Core VC rules. The published IG examples' departures
    from their own profiles are errors unless ``accept_published_quirks``. JSON input is read
    strictly unless ``lenient``."""
    return _native.validate(
        resource_json(resource), accept_published_quirks, profile_base, require_profile_claim, lenient, deny_unknown
    )


class VcEncounter(Document):
    """The VC view of an Encounter HIE created at check-in."""

    __slots__ = ()
    id = Field[Optional[str]]("id", "The Encounter id.")
    version_id = Field[Optional[str]]("versionId", "Its version.")
    vc_type = Field[str]("type", "``VCI`` (one patient) or ``VCE`` (group).")
    token = Field[Optional[str]]("token", "The vc-token identifier (a credential: do not log it).")
    encounter_number = Field[Optional[str]]("encounterNumber", "HIE's encounter number.")
    status = Field[Optional[str]]("status", "The Encounter status.")
    patient = Field[Optional[Dict[str, Any]]]("patient", "The patient reference.")
    practitioners = Field[List[Dict[str, Any]]]("practitioners", "The practitioner references.")
    organisation = Field[Optional[Dict[str, Any]]]("organisation", "The service provider.")
    appointments = Field[List[Dict[str, Any]]]("appointments", "The Appointment references.")
    period = Field[Optional[Dict[str, Any]]]("period", "When.")

    @property
    def patient_id(self) -> Optional[str]:
        """The patient's id (from ``Patient/<id>``)."""
        ref = (self.patient or {}).get("reference")
        return ref.split("/")[-1] if isinstance(ref, str) and ref.startswith("Patient/") else None

    def __repr__(self) -> str:  # the token is a credential
        return f"VcEncounter(id={self.id!r}, vc_type={self.vc_type!r}, status={self.status!r})"


def vc_view(encounter: ResourceArg, *, lenient: bool = False, deny_unknown: bool = False) -> VcEncounter:
    """The VC facts of an Encounter; raises :class:`~hie_vc.errors.InvalidInput` when it is
    not a VC Encounter (class VR, serviceType VCI/VCE)."""
    return VcEncounter(json.loads(_native.vc_view(resource_json(encounter), lenient, deny_unknown)))


def _spec(kind: str, args: Dict[str, Any]) -> str:
    spec = {k: v for k, v in args.items() if v is not None}
    return _native.build(kind, json.dumps(spec))


def appointment(
    *,
    id: str,
    vc_type: Optional[str] = None,
    token: Optional[str] = None,
    status: Optional[str] = None,
    specialty: Optional[str] = None,
    appointment_type: Optional[str] = None,
    healthcare_service: Optional[Party] = None,
    patient: Optional[Party] = None,
    practitioner: Optional[Party] = None,
    slot: Optional[str] = None,
    start: Optional[str] = None,
    end: Optional[str] = None,
    created: Optional[str] = None,
    description: Optional[str] = None,
    profile_base: Optional[str] = None,
) -> Appointment:
    """A MY Core VC Appointment (checked: raises :class:`~hie_vc.errors.InvalidResource`)."""
    return Appointment.from_json(_spec("appointment", dict(locals())))


def vci_appointment(
    *,
    id: str,
    specialty: str,
    patient: Party,
    start: str,
    end: str,
    slot: Optional[str] = None,
    practitioner: Optional[Party] = None,
    healthcare_service: Optional[Party] = None,
    status: Optional[str] = None,
    appointment_type: Optional[str] = None,
    created: Optional[str] = None,
    description: Optional[str] = None,
    profile_base: Optional[str] = None,
) -> Appointment:
    """A VCI (one-to-one) Appointment."""
    return Appointment.from_json(_spec("appointment", dict(locals(), vc_type="VCI")))


def vce_appointment(
    *,
    id: str,
    token: str,
    specialty: str,
    patient: Party,
    start: str,
    end: str,
    slot: Optional[str] = None,
    practitioner: Optional[Party] = None,
    healthcare_service: Optional[Party] = None,
    status: Optional[str] = None,
    appointment_type: Optional[str] = None,
    created: Optional[str] = None,
    description: Optional[str] = None,
    profile_base: Optional[str] = None,
) -> Appointment:
    """A VCE (group) Appointment carrying the session ``token``."""
    return Appointment.from_json(_spec("appointment", dict(locals(), vc_type="VCE")))


def schedule(
    *,
    id: str,
    specialty: str,
    vc_type: Optional[str] = None,
    token: Optional[str] = None,
    schedule_type: Optional[str] = None,
    healthcare_service: Optional[Party] = None,
    practitioner: Optional[Party] = None,
    start: Optional[str] = None,
    end: Optional[str] = None,
    comment: Optional[str] = None,
    profile_base: Optional[str] = None,
) -> Schedule:
    """A MY Core VC Schedule (VCE when ``token`` is given)."""
    return Schedule.from_json(_spec("schedule", dict(locals())))


def slot(
    *,
    id: str,
    schedule: str,
    specialty: str,
    start: str,
    end: str,
    vc_type: Optional[str] = None,
    token: Optional[str] = None,
    quota: Optional[int] = None,
    available: Optional[int] = None,
    quota_wire: Optional[str] = None,
    appointment_type: Optional[str] = None,
    status: Optional[str] = None,
    comment: Optional[str] = None,
    profile_base: Optional[str] = None,
) -> Slot:
    """A MY Core VC Slot (quota 1 by default; ``quota_wire="string"`` writes it as the
    published examples do)."""
    return Slot.from_json(_spec("slot", dict(locals())))


def scheduling_bundle(
    schedule: ResourceArg, slots: Sequence[ResourceArg], *, full_url_base: Optional[str] = None
) -> Bundle:
    """The transaction Bundle that PUTs a Schedule and its Slots."""
    return Bundle.from_json(
        _native.scheduling_bundle(resource_json(schedule), [resource_json(s) for s in slots], full_url_base)
    )


def booking_bundle(
    appointment: ResourceArg,
    slot: ResourceArg,
    *,
    quota_wire: str = "integer",
    full_url_base: Optional[str] = None,
) -> Bundle:
    """The transaction Bundle that books an Appointment into a Slot (its availability
    decremented; raises :class:`~hie_vc.errors.Refused` when it is full)."""
    return Bundle.from_json(
        _native.booking_bundle(resource_json(appointment), resource_json(slot), quota_wire, full_url_base)
    )


def finish_encounter(encounter: ResourceArg, end: str) -> Encounter:
    """The Encounter ``finished`` at ``end`` (its status history kept)."""
    return Encounter.from_json(_native.finish_encounter(resource_json(encounter), end))
