#!/usr/bin/env python3
"""Writes the differential test's corpus: the IG's 19 published examples and mutations of them
(drop a required element, a wrong or unknown code, a wrong system, a wrong value type, one value
too many, a wrong reference type), deterministically, one file each, into OUT_DIR.

usage: mutate.py EXAMPLES_DIR OUT_DIR
Prints the number of files written. Every MY Core resource of a file is mutated, a Bundle's
entries one at a time."""

import copy
import json
import os
import sys

MY = "http://fhir.hie.moh.gov.my"
CS = {
    "service-type": MY + "/CodeSystem/service-type-my-core",
    "specialty": MY + "/CodeSystem/specialty-my-core",
    "class": MY + "/CodeSystem/encounter-class-my-core",
    "schedule-type": MY + "/CodeSystem/schedule-type-my-core",
}
EXT_SCHEDULE_TYPE = MY + "/StructureDefinition/schedule-type-my-core"
EXT_SLOT_QUOTA = MY + "/StructureDefinition/slot-quota-my-core"
EXT_SIMPLE_REGISTER = MY + "/StructureDefinition/simple-register-my-core"


def first_coding(r, *path):
    """The first coding at path (CodeableConcept list, CodeableConcept, or Coding)."""
    v = r
    for p in path:
        if isinstance(v, list):
            if not v:
                return None
            v = v[0]
        if not isinstance(v, dict) or p not in v:
            return None
        v = v[p]
    if isinstance(v, list):
        v = v[0] if v else None
    if isinstance(v, dict) and "coding" in v:
        v = v["coding"][0] if v["coding"] else None
    return v if isinstance(v, dict) else None


def set_code(path, code=None, system=None):
    def m(r):
        c = first_coding(r, *path)
        if c is None:
            return False
        if code is not None:
            c["code"] = code
        if system is not None:
            c["system"] = system
        return True

    return m


def drop(name):
    def m(r):
        if name not in r:
            return False
        del r[name]
        return True

    return m


def drop_ext(url):
    def m(r):
        exts = r.get("extension", [])
        keep = [e for e in exts if e.get("url") != url]
        if len(keep) == len(exts):
            return False
        if keep:
            r["extension"] = keep
        else:
            del r["extension"]
        return True

    return m


def dup_ext(url):
    def m(r):
        for e in r.get("extension", []):
            if e.get("url") == url:
                r["extension"].append(copy.deepcopy(e))
                return True
        return False

    return m


def sub_ext(url, sub, fn):
    def m(r):
        for e in r.get("extension", []):
            if e.get("url") == url:
                for s in e.get("extension", []):
                    if s.get("url") == sub:
                        fn(s)
                        return True
        return False

    return m


def retype(new_key, value):
    def f(s):
        for k in [k for k in s if k.startswith("value")]:
            del s[k]
        s[new_key] = value

    return f


def ext_value(url, new_key, value):
    def m(r):
        for e in r.get("extension", []):
            if e.get("url") == url:
                for k in [k for k in e if k.startswith("value")]:
                    del e[k]
                e[new_key] = value
                return True
        return False

    return m


def actor_field(field, key):
    def m(r):
        actors = r.get(key)
        if not actors:
            return False
        a = actors[0] if key == "actor" else actors[0].get("actor")
        if not isinstance(a, dict) or field not in a:
            return False
        del a[field]
        return True

    return m


def set_ref(key, ref, as_list=False):
    def m(r):
        if key not in r:
            return False
        v = r[key]
        target = v[0] if isinstance(v, list) else v
        if not isinstance(target, dict):
            return False
        target["reference"] = ref
        target.pop("type", None)
        return True

    return m


def set_value(key, value):
    def m(r):
        if key not in r:
            return False
        r[key] = value
        return True

    return m


def dup_list(key):
    def m(r):
        v = r.get(key)
        if not isinstance(v, list) or not v:
            return False
        v.append(copy.deepcopy(v[0]))
        return True

    return m


def add_vc_token_twice(r):
    ids = r.setdefault("identifier", [])
    ids.append({"system": MY + "/sid/vc-token", "value": "t-1"})
    ids.append({"system": MY + "/sid/vc-token", "value": "t-2"})
    return True


def schedule_type_code(code):
    def m(r):
        for e in r.get("extension", []):
            if e.get("url") == EXT_SCHEDULE_TYPE and e.get("valueCodeableConcept", {}).get("coding"):
                e["valueCodeableConcept"]["coding"][0]["code"] = code
                return True
        return False

    return m


COMMON = [
    ("drop-serviceType", drop("serviceType")),
    ("drop-serviceCategory", drop("serviceCategory")),
    ("drop-specialty", drop("specialty")),
    ("serviceType-unknown-VCX", set_code(("serviceType",), code="VCX")),
    ("serviceType-unknown-00", set_code(("serviceType",), code="00")),
    ("serviceType-known-01", set_code(("serviceType",), code="01")),
    ("serviceType-other-system", set_code(("serviceType",), system="http://example.org/st")),
    ("specialty-unknown-99999", set_code(("specialty",), code="99999")),
    ("specialty-unknown-0", set_code(("specialty",), code="0")),
    ("specialty-known-86", set_code(("specialty",), code="86")),
    ("serviceCategory-unknown-VRX", set_code(("serviceCategory",), code="VRX")),
    ("serviceCategory-known-AMB", set_code(("serviceCategory",), code="AMB")),
    ("appointmentType-unknown", set_code(("appointmentType",), code="weekly")),
    ("appointmentType-other-system", set_code(("appointmentType",), system="http://example.org/at")),
    ("drop-appointmentType", drop("appointmentType")),
]

BY_TYPE = {
    "Appointment": [
        ("drop-status", drop("status")),
        ("drop-participant", drop("participant")),
        ("participant-actor-no-type", actor_field("type", "participant")),
        ("participant-actor-no-display", actor_field("display", "participant")),
        ("simple-register-twice", dup_ext(EXT_SIMPLE_REGISTER)),
        ("simple-register-name-integer", sub_ext(EXT_SIMPLE_REGISTER, "name", retype("valueInteger", 7))),
        ("simple-register-birthDate-string", sub_ext(EXT_SIMPLE_REGISTER, "birthDate", retype("valueString", "x"))),
        ("simple-register-name-twice", lambda r: sub_ext(EXT_SIMPLE_REGISTER, "name", lambda s: None)(r)
         and dup_sub(r, EXT_SIMPLE_REGISTER, "name")),
        ("status-booked", set_value("status", "booked")),
        # Cancelled, with a reason: the reason's required binding is to a value set the IG does
        # not publish.
        ("cancelled-with-reason", lambda r: r.update({"status": "cancelled", "cancelationReason": {"coding": [{"system": MY + "/CodeSystem/x", "code": "c"}]}}) or True),
    ],
    "Encounter": [
        ("drop-class", drop("class")),
        ("class-unknown-VRX", set_code(("class",), code="VRX")),
        ("class-known-AMB", set_code(("class",), code="AMB")),
        ("class-other-system", set_code(("class",), system="http://terminology.hl7.org/CodeSystem/v3-ActCode")),
        ("drop-type", drop("type")),
        ("type-unknown-99999", set_code(("type",), code="99999")),
        ("drop-subject", drop("subject")),
        ("drop-period", drop("period")),
        ("period-no-start", lambda r: isinstance(r.get("period"), dict) and "start" in r["period"] and (r["period"].pop("start") or True)),
        ("drop-serviceProvider", drop("serviceProvider")),
        ("status-planned", set_value("status", "planned")),
        ("status-cancelled", set_value("status", "cancelled")),
        ("two-vc-tokens", add_vc_token_twice),
        ("subject-organization", set_ref("subject", "Organization/o1")),
        ("serviceProvider-patient", set_ref("serviceProvider", "Patient/p1")),
        ("diagnosis-no-use", lambda r: bool(r.get("diagnosis")) and ("use" in r["diagnosis"][0]) and (r["diagnosis"][0].pop("use") or True)),
    ],
    "Schedule": [
        ("drop-schedule-type", drop_ext(EXT_SCHEDULE_TYPE)),
        ("schedule-type-twice", dup_ext(EXT_SCHEDULE_TYPE)),
        ("schedule-type-unknown", schedule_type_code("weekly")),
        ("schedule-type-public", schedule_type_code("public")),
        ("schedule-type-as-coding", ext_value(EXT_SCHEDULE_TYPE, "valueCoding", {"system": CS["schedule-type"], "code": "internal"})),
        ("schedule-type-as-string", ext_value(EXT_SCHEDULE_TYPE, "valueString", "internal")),
        ("drop-actor", drop("actor")),
        ("actor-no-type", actor_field("type", "actor")),
        ("actor-no-display", actor_field("display", "actor")),
        ("drop-all-extensions", drop("extension")),
    ],
    "Slot": [
        ("drop-slot-quota", drop_ext(EXT_SLOT_QUOTA)),
        ("slot-quota-twice", dup_ext(EXT_SLOT_QUOTA)),
        ("quota-boolean", sub_ext(EXT_SLOT_QUOTA, "quota", retype("valueBoolean", True))),
        ("quota-integer", sub_ext(EXT_SLOT_QUOTA, "quota", retype("valueInteger", 5))),
        ("available-decimal", sub_ext(EXT_SLOT_QUOTA, "available", retype("valueDecimal", 1.5))),
        ("slot-quota-with-value", lambda r: any(e.get("url") == EXT_SLOT_QUOTA and (e.update({"valueInteger": 1}) or True) for e in r.get("extension", []))),
        ("schedule-to-patient", set_ref("schedule", "Patient/p1")),
        ("schedule-to-healthcareservice", set_ref("schedule", "HealthcareService/h1")),
        ("drop-schedule", drop("schedule")),
        ("drop-status", drop("status")),
        ("drop-start", drop("start")),
        ("drop-end", drop("end")),
        ("drop-all-extensions", drop("extension")),
    ],
}


def dup_sub(r, url, sub):
    for e in r.get("extension", []):
        if e.get("url") == url:
            for s in e.get("extension", []):
                if s.get("url") == sub:
                    e["extension"].append(copy.deepcopy(s))
                    return True
    return False


def resources(doc):
    """(path to the resource in doc, the resource) for each MY Core resource."""
    if doc.get("resourceType") == "Bundle":
        for i, e in enumerate(doc.get("entry", [])):
            r = e.get("resource")
            if isinstance(r, dict) and r.get("resourceType") in BY_TYPE:
                yield i
    elif doc.get("resourceType") in BY_TYPE:
        yield None


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(src)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(src, name), encoding="utf-8") as f:
            text = f.read()
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(text)
        n += 1
        doc = json.loads(text)
        for entry in list(resources(doc)):
            rt = (doc["entry"][entry]["resource"] if entry is not None else doc)["resourceType"]
            for label, fn in COMMON + BY_TYPE[rt]:
                d = copy.deepcopy(doc)
                r = d["entry"][entry]["resource"] if entry is not None else d
                if not fn(r):
                    continue
                where = f"e{entry}-" if entry is not None else ""
                fname = f"{name[:-5]}--{where}{label}.json"
                with open(os.path.join(out, fname), "w", encoding="utf-8") as f:
                    json.dump(d, f, ensure_ascii=False, indent=1)
                n += 1
    print(n)


if __name__ == "__main__":
    main()
