"""MY Core from Python: keyword builders, validation reports, the VC view, the bundles."""

from __future__ import annotations

import json

import pytest

from hie_vc import errors, fhir, mycore

from .conftest import spec_dir


def test_vci_appointment_validates_and_reports_rules() -> None:
    a = mycore.vci_appointment(
        id="a1", specialty="86", patient={"id": "p1", "display": "Siti"},
        start="2023-07-10T21:00:00+08:00", end="2023-07-10T22:00:00+08:00",
    )
    assert isinstance(a, fhir.Appointment)
    r = mycore.validate(a)
    assert r.is_valid and bool(r)
    d = a.to_dict()
    d["start"], d["end"] = d["end"], d["start"]
    r = mycore.validate(d)
    assert not r.is_valid
    issue = r.issues[0]
    assert issue.severity == "error" and issue.rule and issue.location.startswith("Appointment")
    oo = r.to_operation_outcome()
    assert isinstance(oo, fhir.OperationOutcome)
    assert oo.issue and oo.issue[0].severity == "error"


def test_builder_errors_are_typed() -> None:
    with pytest.raises(errors.InvalidInput):
        mycore.slot(id="s", schedule="x", specialty="86", start="2023-07-10T21:00:00+08:00",
                    end="2023-07-10T22:00:00+08:00", appointment_type="nope")
    with pytest.raises(errors.InvalidResource) as e:
        mycore.vci_appointment(id="a", specialty="86", patient="p1",
                               start="2023-07-10T21:00:00+08:00", end="2023-07-10T22:00:00+08:00")
    assert e.value.report is not None and not e.value.report.is_valid


def test_scheduling_and_booking_bundles() -> None:
    s = mycore.schedule(id="sch1", specialty="86", practitioner={"id": "pr1", "display": "Dr A"},
                        healthcare_service={"id": "hs1", "display": "Klinik"},
                        start="2023-07-10T00:00:00+08:00", end="2023-07-11T00:00:00+08:00")
    sl = mycore.slot(id="sl1", schedule="sch1", specialty="86", quota=2,
                     start="2023-07-10T21:00:00+08:00", end="2023-07-10T22:00:00+08:00")
    b = mycore.scheduling_bundle(s, [sl])
    assert isinstance(b, fhir.Bundle) and b.entry is not None and len(b.entry) == 2
    a = mycore.vci_appointment(id="a1", specialty="86", patient={"id": "p1", "display": "Siti"}, slot="sl1",
                               start="2023-07-10T21:00:00+08:00", end="2023-07-10T22:00:00+08:00")
    bb = mycore.booking_bundle(a, sl)
    assert bb.entry is not None and len(bb.entry) == 2


def test_vc_view_and_finish() -> None:
    enc = {
        "resourceType": "Encounter", "id": "e1", "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR"},
        "serviceType": {"coding": [{"system": "http://fhir.hie.moh.gov.my/CodeSystem/service-type-my-core", "code": "VCI"}]},
        "identifier": [{"system": "http://fhir.hie.moh.gov.my/sid/vc-token", "value": "tok-1"}],
        "subject": {"reference": "Patient/p1"},
    }
    v = mycore.vc_view(enc)
    assert v.vc_type == "VCI" and v.token == "tok-1" and v.patient_id == "p1"
    assert "tok-1" not in repr(v)
    done = mycore.finish_encounter(enc, "2023-07-10T22:00:00+08:00")
    assert done.status == "finished"
    with pytest.raises(errors.InvalidInput):
        mycore.vc_view({"resourceType": "Patient", "id": "x"})


def test_profile_rules_name_their_source_and_element() -> None:
    doc = json.loads((spec_dir() / "mycore-ig" / "examples" / "vci-app-example.json").read_text())
    doc["serviceType"][0]["coding"][0]["code"] = "VCX"
    report = mycore.validate(json.dumps(doc))
    assert not report.is_valid
    (issue,) = [i for i in report.issues if i.rule == "profile-code-unknown"]
    assert issue.severity == "error" and issue.source == "profile"
    assert issue.location == "Appointment.serviceType[0].coding[0].code"
    # a code outside a complete code system names the CodeSystem it is missing from
    assert issue.profile_definition == "http://fhir.hie.moh.gov.my/CodeSystem/service-type-my-core"
    assert issue.profile_element == "Coding.code"
    assert all(i.source == "workflow" for i in report.issues if not i.rule.startswith("profile-"))
