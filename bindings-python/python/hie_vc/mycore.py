"""MY Core for Virtual Consultation: builders (keyword arguments), validation and the VC view of
an Encounter — the core's own rules, the same in Rust, C, Python and Node."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _native
from ._native import Issue, Report
from ._results import Document, field
from .fhir import Resource, from_dict, resource_json

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
) -> Report:
    """Checks a resource against the MY Core VC rules. The published IG examples' departures
    from their own profiles are errors unless ``accept_published_quirks``."""
    return _native.validate(resource_json(resource), accept_published_quirks, profile_base, require_profile_claim)


class VcEncounter(Document):
    """The VC view of an Encounter HIE created at check-in."""

    __slots__ = ()
    id: Optional[str] = field("id", "The Encounter id.")
    version_id: Optional[str] = field("versionId", "Its version.")
    vc_type: str = field("type", "``VCI`` (one patient) or ``VCE`` (group).")
    token: Optional[str] = field("token", "The vc-token identifier (a credential: do not log it).")
    encounter_number: Optional[str] = field("encounterNumber", "HIE's encounter number.")
    status: Optional[str] = field("status", "The Encounter status.")
    patient: Optional[Dict[str, Any]] = field("patient", "The patient reference.")
    practitioners: List[Dict[str, Any]] = field("practitioners", "The practitioner references.")
    organisation: Optional[Dict[str, Any]] = field("organisation", "The service provider.")
    appointments: List[Dict[str, Any]] = field("appointments", "The Appointment references.")
    period: Optional[Dict[str, Any]] = field("period", "When.")

    @property
    def patient_id(self) -> Optional[str]:
        """The patient's id (from ``Patient/<id>``)."""
        ref = (self.patient or {}).get("reference")
        return ref.split("/")[-1] if isinstance(ref, str) and ref.startswith("Patient/") else None

    def __repr__(self) -> str:  # the token is a credential
        return f"VcEncounter(id={self.id!r}, vc_type={self.vc_type!r}, status={self.status!r})"


def vc_view(encounter: ResourceArg) -> VcEncounter:
    """The VC facts of an Encounter; raises :class:`~hie_vc.errors.InvalidInput` when it is
    not a VC Encounter (class VR, serviceType VCI/VCE)."""
    return VcEncounter(json.loads(_native.vc_view(resource_json(encounter))))


def _spec(kind: str, args: Dict[str, Any]) -> Resource:
    spec = {k: v for k, v in args.items() if v is not None}
    return from_dict(json.loads(_native.build(kind, json.dumps(spec))))


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
) -> Resource:
    """A MY Core VC Appointment (checked: raises :class:`~hie_vc.errors.InvalidResource`)."""
    return _spec("appointment", dict(locals()))


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
) -> Resource:
    """A VCI (one-to-one) Appointment."""
    return _spec("appointment", dict(locals(), vc_type="VCI"))


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
) -> Resource:
    """A VCE (group) Appointment carrying the session ``token``."""
    return _spec("appointment", dict(locals(), vc_type="VCE"))


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
) -> Resource:
    """A MY Core VC Schedule (VCE when ``token`` is given)."""
    return _spec("schedule", dict(locals()))


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
) -> Resource:
    """A MY Core VC Slot (quota 1 by default; ``quota_wire="string"`` writes it as the
    published examples do)."""
    return _spec("slot", dict(locals()))


def scheduling_bundle(
    schedule: ResourceArg, slots: Sequence[ResourceArg], *, full_url_base: Optional[str] = None
) -> Resource:
    """The transaction Bundle that PUTs a Schedule and its Slots."""
    return from_dict(
        json.loads(_native.scheduling_bundle(resource_json(schedule), [resource_json(s) for s in slots], full_url_base))
    )


def booking_bundle(
    appointment: ResourceArg,
    slot: ResourceArg,
    *,
    quota_wire: str = "integer",
    full_url_base: Optional[str] = None,
) -> Resource:
    """The transaction Bundle that books an Appointment into a Slot (its availability
    decremented; raises :class:`~hie_vc.errors.Refused` when it is full)."""
    return from_dict(
        json.loads(_native.booking_bundle(resource_json(appointment), resource_json(slot), quota_wire, full_url_base))
    )


def finish_encounter(encounter: ResourceArg, end: str) -> Resource:
    """The Encounter ``finished`` at ``end`` (its status history kept)."""
    return from_dict(json.loads(_native.finish_encounter(resource_json(encounter), end)))
