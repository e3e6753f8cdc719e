"""FHIR R4 resources, read and written by the Rust model.

:func:`read` decodes FHIR JSON (strictly, or leniently with :attr:`Resource.warnings`) into
typed objects for the VC resources — Encounter, Appointment, Schedule, Slot, Patient,
Practitioner, PractitionerRole, Organization, HealthcareService, Bundle, OperationOutcome — and
a :class:`RawResource` for any other type. Attributes carry the FHIR element names
(``enc.serviceType``; ``class_`` for ``class``). The classes are generated from the same
definitions as the Rust model (``tools/gen_fhir.py``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Dict, Mapping, Union

from .. import _native
from ._model import *  # noqa: F401,F403  (the generated classes)
from ._model import (  # noqa: F401  (re-exported)
    Appointment,
    Bundle,
    Encounter,
    HealthcareService,
    OperationOutcome,
    Organization,
    Patient,
    Practitioner,
    PractitionerRole,
    Schedule,
    Slot,
)
from ._model import RESOURCE_TYPES, RawResource, Resource, resource_from_dict, resource_from_wire

__all__ = [
    "read",
    "from_dict",
    "write",
    "resource_json",
    "Resource",
    "RawResource",
    "Appointment",
    "Bundle",
    "Encounter",
    "HealthcareService",
    "OperationOutcome",
    "Organization",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Schedule",
    "Slot",
]


def from_dict(data: Mapping[str, Any]) -> Resource:
    """The typed object for a FHIR JSON dict (by its ``resourceType``); not validated — use
    :func:`read` for that."""
    return resource_from_dict(dict(data))


def _from_json(text: str) -> Resource:
    return resource_from_wire(json.loads(text, parse_float=Decimal))


def read(data: Union[str, bytes], *, lenient: bool = False, deny_unknown: bool = False) -> Resource:
    """Reads FHIR JSON. Strict by default: anything R4 forbids raises
    :class:`~hie_vc.errors.ReadError` with its ``location``. ``lenient=True`` accepts common
    departures and lists them in the result's ``warnings``. ``deny_unknown`` refuses elements
    the model does not know (kept, with a warning, by default)."""
    doc = json.loads(_native.fhir_read(data, lenient, deny_unknown), parse_float=Decimal)
    obj = resource_from_wire(doc["resource"])
    if doc.get("warnings"):
        from .._results import Warning_

        obj._set_warnings(tuple(Warning_(w) for w in doc["warnings"]))
    return obj


def write(resource: "Union[Resource, Mapping[str, Any], str, bytes]", *, lenient: bool = False) -> str:
    """The FHIR JSON the Rust model writes for a resource (read strictly, or leniently)."""
    return str(_native.fhir_write(resource_json(resource), lenient))


def resource_json(resource: "Union[Resource, Mapping[str, Any], str, bytes]") -> str:
    """A resource argument as JSON text (a model object, a dict, or JSON text/bytes)."""
    if isinstance(resource, Resource):
        return resource.to_json()
    if isinstance(resource, str):
        return resource
    if isinstance(resource, (bytes, bytearray)):
        return bytes(resource).decode("utf-8")
    if isinstance(resource, Mapping):
        return json.dumps(resource)
    from ..errors import InvalidInput

    raise InvalidInput(
        f"expected a FHIR resource (model object, dict or JSON), got {type(resource).__name__}",
        kind="invalid_input",
    )

