"""FHIR reading from Python: typed objects for every published IG example, strict errors with
their location, lenient warnings, round trips, the redacting repr."""

from __future__ import annotations

import json

import pytest

from hie_vc import errors, fhir

from .conftest import example, spec_dir


def examples() -> "list[str]":
    return sorted(p.name for p in (spec_dir() / "mycore-ig" / "examples").glob("*.json"))


@pytest.mark.parametrize("name", examples())
def test_every_example_reads_typed_or_fails_located(name: str) -> None:
    text = (spec_dir() / "mycore-ig" / "examples" / name).read_bytes()
    try:
        r = fhir.read(text, lenient=True)
    except errors.ReadError as e:
        assert e.location, name
        return
    assert r.resourceType == json.loads(text)["resourceType"]
    assert fhir.read(r.to_json(), lenient=True) == r


def test_strict_read_errors_are_located_and_lenient_reads_warn() -> None:
    bad = {"resourceType": "Appointment", "status": "booked", "participant": [{"status": "accepted"}], "slot": {"reference": "Slot/s1"}}
    with pytest.raises(errors.ReadError) as e:
        fhir.read(json.dumps(bad))
    assert e.value.location and e.value.location.startswith("Appointment.slot")
    r = fhir.read(json.dumps(bad), lenient=True)
    assert r.warnings and r.warnings[0].location.startswith("Appointment.slot")
    assert isinstance(r, fhir.Appointment)


def test_attributes_and_unknown_types() -> None:
    enc = fhir.read(
        json.dumps(
            {
                "resourceType": "Encounter",
                "status": "planned",
                "class": {"code": "VR"},
                "serviceType": {"coding": [{"code": "VCI"}]},
            }
        )
    )
    assert isinstance(enc, fhir.Encounter)
    assert enc.class_ is not None and enc.class_.code == "VR"
    assert enc.serviceType is not None and enc.serviceType.coding
    assert enc.serviceType.coding[0].code == "VCI"
    raw = fhir.read('{"resourceType": "Observation", "status": "final", "code": {"text": "x"}}')
    assert isinstance(raw, fhir.RawResource) and raw["status"] == "final"


def test_repr_redacts_patient_data() -> None:
    p = fhir.from_dict(
        {"resourceType": "Patient", "id": "p1", "identifier": [{"system": "https://mykad", "value": "950728106051"}], "name": [{"text": "SITI NUR"}]}
    )
    text = repr(p)
    assert "950728106051" not in text and "SITI" not in text
    assert "p1" in text
