"""The generated FHIR classes (hie_vc.fhir._model): every IG example round-trips unchanged,
attributes read and write the FHIR elements, equality is by wire form, repr is the Rust model's
redacted Debug text, and the checked-in generated files are what the generators make from the
current Rust model (Python classes and stubs, and the Node package's fhir.d.ts).

The Rust side is driven through the ``fhir_schema`` example of the core (built once with cargo;
set HIEVC_FHIR_SCHEMA to a built binary to skip the build). Only the pure-Python modules are
imported, so the test runs without the native extension.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
from decimal import Decimal
from typing import Any, Dict, List

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PKG = ROOT / "bindings-python" / "python"
sys.path.insert(0, str(PKG))
sys.path.insert(0, str(ROOT / "bindings-python" / "tools"))

from hie_vc.fhir import _model  # noqa: E402
from hie_vc.fhir._debug import fhir_debug  # noqa: E402
from hie_vc.fhir._model import (  # noqa: E402
    Appointment,
    Bundle,
    CodeableConcept,
    Coding,
    Encounter,
    Extension,
    HumanName,
    Identifier,
    Patient,
    Quantity,
    RawResource,
    Reference,
    Resource,
    resource_from_dict,
    resource_from_json,
)

EXAMPLES = sorted((ROOT.parent / "shared" / "spec" / "mycore-ig" / "examples").glob("*.json"))


def load(name: str) -> Dict[str, Any]:
    path = next(p for p in EXAMPLES if p.name == name)
    data: Dict[str, Any] = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    return data


@pytest.fixture(scope="session")
def schema_bin() -> List[str]:
    path = os.environ.get("HIEVC_FHIR_SCHEMA")
    if path:
        return [path]
    out = subprocess.run(
        ["cargo", "build", "-q", "-p", "hie-vc", "--example", "fhir_schema", "--message-format=json"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    for line in out.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "fhir_schema" and msg.get("executable"):
            return [str(msg["executable"])]
    pytest.fail("cargo built no fhir_schema executable")


@pytest.fixture(scope="session")
def schema_file(schema_bin: List[str], tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = subprocess.run(schema_bin, capture_output=True, text=True, timeout=120, check=True)
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    path.write_text(out.stdout, encoding="utf-8")
    return path


def test_there_are_ig_examples() -> None:
    assert len(EXAMPLES) >= 15, EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_ig_example_round_trips_unchanged(path: pathlib.Path) -> None:
    text = path.read_text(encoding="utf-8")
    data: Dict[str, Any] = json.loads(text, parse_float=Decimal)
    cls = _model.RESOURCE_TYPES[data["resourceType"]]
    obj = cls.from_dict(data)
    assert type(obj) is cls
    assert obj.to_dict() == data
    assert obj.to_dict() is not obj.to_dict()
    # Through JSON text, typed by resourceType.
    again = resource_from_json(obj.to_json())
    assert type(again) is cls and again == obj
    assert json.loads(again.to_json(), parse_float=Decimal) == data
    # Reading every attribute of every object leaves the wire form as it was.
    touch_everything(obj)
    assert obj.to_dict() == data


def touch_everything(obj: Any) -> int:
    """Reads every attribute, recursively; returns how many values were read."""
    n = 0
    for name in dir(type(obj)):
        if isinstance(getattr(type(obj), name, None), _model._Element):
            value = getattr(obj, name)
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, _model.FhirObject):
                    n += 1 + touch_everything(v)
                elif v is not None:
                    n += 1
    return n


def test_attributes_read_the_fhir_elements() -> None:
    enc = Encounter.from_dict(load("vci-enc-example.json"))
    assert enc.resourceType == "Encounter"
    assert enc.id == "vci-enc-example"
    assert enc.status == "arrived"
    assert enc.class_ is not None and enc.class_.code == "VR"
    assert isinstance(enc.class_, Coding)
    assert enc.serviceType is not None and enc.serviceType.coding is not None
    assert enc.serviceType.coding[0].code == "VCI"
    assert enc.identifier is not None and [i.system for i in enc.identifier] == [
        "http://fhir.hie.moh.gov.my/sid/vc-token",
        "http://fhir.hie.moh.gov.my/sid/encounter-id",
    ]
    assert enc.statusHistory is not None and enc.statusHistory[0].status == "planned"
    assert enc.subject is not None and enc.subject.reference is not None
    assert enc.meta is not None and enc.meta.profile is not None and enc.meta.profile[0].endswith("Encounter-my-core")
    assert enc.participant is None and enc.hospitalization is None

    appt = Appointment.from_dict(load("vci-app-example.json"))
    assert appt.serviceType is not None and appt.serviceType[0].coding is not None
    assert appt.serviceType[0].coding[0].code == "VCI"
    assert appt.participant is not None
    actor = appt.participant[1].actor
    assert actor is not None and actor.type == "Patient"
    assert appt.slot is not None and appt.slot[0].reference == "Slot/vci-slt-example"

    bundle = resource_from_json(
        (ROOT.parent / "shared/spec/mycore-ig/examples/scheduling.json").read_text(encoding="utf-8")
    )
    assert isinstance(bundle, Bundle) and bundle.entry is not None
    kinds = {type(e.resource).__name__ for e in bundle.entry}
    assert "RawResource" not in kinds and len(kinds) >= 2


def test_choice_elements_by_their_concrete_names() -> None:
    p = Patient.from_dict({"resourceType": "Patient", "deceasedDateTime": "2020-01-01", "multipleBirthInteger": 2})
    assert p.deceasedDateTime == "2020-01-01" and p.deceasedBoolean is None
    assert p.multipleBirthInteger == 2
    p.deceasedBoolean = False
    # One member of a choice at a time: setting one removes the other.
    assert p.to_dict() == {"resourceType": "Patient", "multipleBirthInteger": 2, "deceasedBoolean": False}
    ext = Extension(url="http://e", valueCodeableConcept=CodeableConcept(text="t"))
    assert ext.valueCodeableConcept is not None and ext.valueCodeableConcept.text == "t"
    ext.valueQuantity = Quantity(value=Decimal("1.50"), unit="kg")
    assert ext.to_json() == '{"url":"http://e","valueQuantity":{"value":1.50,"unit":"kg"}}'
    # An open choice keeps a type the model does not type; setting a typed one replaces it.
    raw = Extension.from_dict({"url": "http://t", "valueTiming": {"event": ["2020"]}})
    raw.valueString = "s"
    assert raw.to_dict() == {"url": "http://t", "valueString": "s"}


def test_setting_stores_the_wire_form() -> None:
    enc = Encounter.from_dict(load("vci-enc-example.json"))
    enc.status = "finished"
    enc.class_ = Coding(system="http://terminology.hl7.org/CodeSystem/v3-ActCode", code="AMB")
    enc.period = None
    enc.participant = []
    enc.length = Quantity(value=Decimal("30"), unit="min")
    d = enc.to_dict()
    assert d["status"] == "finished"
    assert d["class"] == {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}
    assert "period" not in d and "participant" not in d
    assert enc.to_json().count('"length":{"value":30,"unit":"min"}') == 1
    # Objects share their JSON: a change through a child shows in the parent.
    assert enc.class_ is not None
    enc.class_.display = "ambulatory"
    assert enc.to_dict()["class"]["display"] == "ambulatory"
    with pytest.raises(TypeError, match="Encounter.status: expected str"):
        enc.status = 3  # type: ignore[assignment]
    with pytest.raises(TypeError, match="expected Coding"):
        enc.class_ = CodeableConcept(text="x")  # type: ignore[assignment]
    with pytest.raises(TypeError, match="expected a list"):
        enc.identifier = Identifier(value="x")  # type: ignore[assignment]
    with pytest.raises(TypeError, match="no element 'nickname'"):
        Patient(nickname="x")  # type: ignore[call-arg]
    q = Quantity(value=1.5)  # type: ignore[arg-type]
    assert q.value == Decimal("1.5") and q.to_json() == '{"value":1.5}'


def test_keyword_constructors_and_from_dict() -> None:
    enc = Encounter(
        status="in-progress",
        class_=Coding(system="http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core", code="VR"),
        identifier=[Identifier(system="http://fhir.hie.moh.gov.my/sid/vc-token", value="tok")],
        subject=Reference(reference="Patient/p1"),
    )
    assert enc.to_dict() == {
        "resourceType": "Encounter",
        "identifier": [{"system": "http://fhir.hie.moh.gov.my/sid/vc-token", "value": "tok"}],
        "status": "in-progress",
        "class": {"system": "http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core", "code": "VR"},
        "subject": {"reference": "Patient/p1"},
    }
    # Members are kept in the order the Rust writer writes them, whatever order they were set in.
    assert list(enc.to_dict()) == ["resourceType", "identifier", "status", "class", "subject"]
    enc.id = "e1"
    assert list(enc.to_dict())[:2] == ["resourceType", "id"]
    with pytest.raises(ValueError, match="resourceType is 'Patient', expected 'Encounter'"):
        Encounter.from_dict({"resourceType": "Patient"})
    with pytest.raises(TypeError):
        Coding.from_dict(["not", "a", "dict"])  # type: ignore[arg-type]
    src = {"system": "s", "code": "c"}
    c = Coding.from_dict(src)
    src["code"] = "changed"
    assert c.code == "c", "from_dict copies"


def test_equality_is_by_wire_form() -> None:
    a = Encounter.from_dict(load("vci-enc-example.json"))
    b = Encounter.from_dict(load("vci-enc-example.json"))
    assert a == b and not (a != b)
    b.status = "finished"
    assert a != b
    assert Coding(code="x") == Coding(code="x")
    assert Coding(code="x") != Identifier()
    with pytest.raises(TypeError):
        hash(a)
    # A read's warnings ride along and do not take part in ==.
    assert a.warnings == ()
    b.status = a.status
    b._set_warnings(("a warning",))
    assert b.warnings == ("a warning",) and a == b


def test_raw_resources_for_other_types() -> None:
    obs = {"resourceType": "Observation", "id": "o1", "valueQuantity": {"value": Decimal("1.50")}}
    r = resource_from_dict(obs)
    assert isinstance(r, RawResource) and isinstance(r, Resource)
    assert r.resourceType == "Observation" and r.id == "o1" and r["valueQuantity"] == {"value": Decimal("1.50")}
    assert r.to_dict() == obs
    assert r.to_json() == '{"resourceType":"Observation","id":"o1","valueQuantity":{"value":1.50}}'
    assert repr(r) == f"Observation(<raw {len(r.to_json())} bytes>)"
    with pytest.raises(ValueError):
        resource_from_dict({"id": "x"})


def test_repr_redacts_patient_data() -> None:
    p = Patient(
        identifier=[Identifier(system="http://fhir.hie.moh.gov.my/sid/my-kad-no", value="950728106051")],
        name=[HumanName(family="Ahmad", given=["Siti"])],
        birthDate="1995-07-28",
        gender="female",
    )
    text = repr(p)
    for secret in ("950728106051", "Ahmad", "Siti", "1995"):
        assert secret not in text
    assert text == (
        'Patient { identifier: [Identifier { system: "http://fhir.hie.moh.gov.my/sid/my-kad-no", '
        'value: "<redacted>" }], name: [HumanName { family: "<redacted>", given: "<redacted>" }], '
        'gender: Female, birthDate: "<redacted>" }'
    )
    assert repr(Coding(code="x")) == 'Coding { code: "x" }'


def test_repr_is_the_rust_debug_text(schema_bin: List[str]) -> None:
    # Every IG example read leniently by the Rust model: its Debug text, and the JSON its
    # writer makes (what the Python classes wrap after `fhir.read`), whose repr must be the same.
    out = subprocess.run(
        schema_bin + ["debug"] + [str(p) for p in EXAMPLES], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    rust = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rust) == len(EXAMPLES)
    for path, expected in zip(EXAMPLES, rust):
        obj = resource_from_json(expected["json"])
        # (Equal as JSON: the Rust writer keeps an unknown member's text as it was sent.)
        assert json.loads(obj.to_json(), parse_float=Decimal) == json.loads(expected["json"], parse_float=Decimal)
        assert repr(obj) == expected["debug"], path.name


def test_repr_of_unknown_members_codes_and_companions(schema_bin: List[str], tmp_path: pathlib.Path) -> None:
    doc = {
        "resourceType": "Patient",
        "id": "p",
        "birthDate": "1990-01-01",
        "_birthDate": {"extension": [{"url": "http://x", "valueCode": "c"}]},
        "gender": "non-binary",
        "x-local": Decimal("1.50"),
        "_x": 1,
        "deceasedBoolean": False,
        "multipleBirthInteger": 3,
        "name": [{"given": ["A", "B"], "_given": [None, {"id": "g2"}], "use": "official", "text": 'Dr "Q"\n'}],
        "extension": [
            {"url": "http://e", "valueTiming": {"event": ["2020-01-01"]}},
            {"url": "http://f", "valueQuantity": {"value": Decimal("1.50"), "unit": "kg"}},
            {"url": "http://g", "valueString": "secret"},
            {"url": "http://h", "valuePositiveInt": 4, "_valuePositiveInt": {"id": "v"}},
        ],
        "contained": [{"resourceType": "Observation", "id": "o", "status": "final"}],
        "communication": [{"language": {"text": "ms"}, "preferred": True}],
    }
    obj = Patient.from_dict(doc)
    path = tmp_path / "p.json"
    path.write_text(obj.to_json(), encoding="utf-8")
    out = subprocess.run(schema_bin + ["debug", str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert repr(obj) == json.loads(out.stdout)["debug"]
    assert "secret" not in repr(obj)


def test_docstrings_come_from_the_model() -> None:
    assert Encounter.__doc__ is not None and Encounter.__doc__.startswith("An interaction between a patient")
    assert getattr(Encounter, "class_").__doc__ == "Classification of patient encounter (MY Core: VR for VC)."
    assert _model.EncounterParticipant.__doc__ is not None
    assert "Encounter.participant" in _model.EncounterParticipant.__doc__


def test_debug_takes_the_native_signature() -> None:
    assert fhir_debug("Coding", '{"code":"x","display":"y"}') == 'Coding { code: "x", display: "y" }'
    assert fhir_debug("Reference", '{"reference":"Patient/1","display":"Siti"}') == (
        'Reference { reference: "Patient/1", display: "<redacted>" }'
    )


def test_generated_python_is_fresh(schema_file: pathlib.Path) -> None:
    import gen_fhir  # the generator, from bindings-python/tools

    files = gen_fhir.generate(json.loads(schema_file.read_text(encoding="utf-8")))
    for name, text in files.items():
        checked_in = (PKG / "hie_vc" / "fhir" / name).read_text(encoding="utf-8")
        assert checked_in == text, f"{name} is stale; regenerate: python3 bindings-python/tools/gen_fhir.py"


def test_generated_typescript_is_fresh(schema_file: pathlib.Path) -> None:
    node = shutil.which("node")
    assert node, "node (18+) is needed to check bindings-node/fhir.d.ts"
    out = subprocess.run(
        [node, str(ROOT / "bindings-node" / "tools" / "gen_types.mjs"), "--check", "--schema", str(schema_file)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr


def test_mypy_strict_passes_with_the_stubs() -> None:
    """This file and the repr module type-check strictly against the generated stubs."""
    import mypy.api as api  # a test requirement (tests/run.sh installs it): missing, this fails
    env_path = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = os.pathsep.join([str(PKG), str(ROOT / "bindings-python" / "tools")])
    try:
        for target in ([str(pathlib.Path(__file__))], ["-m", "hie_vc.fhir._debug"]):
            stdout, stderr, status = api.run(["--strict", "--no-incremental", *target])
            assert status == 0, stdout + stderr
    finally:
        if env_path is None:
            os.environ.pop("MYPYPATH", None)
        else:
            os.environ["MYPYPATH"] = env_path
