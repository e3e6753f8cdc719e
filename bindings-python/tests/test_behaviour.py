"""The cross-language behaviour spec (tests/behaviour/*.json, format in its README) replayed
on the Python package's public API: the same cases the Rust suite runs, matched against the
same JSON documents. Every failing case of a file is reported by name; an unknown op, input
key or matcher fails its case."""

from __future__ import annotations

import base64
import copy
import json
import pathlib
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from hie_vc import errors, fhir, mycore

from .conftest import ROOT, spec_dir

SPEC = ROOT / "tests" / "behaviour"


def document(d: Dict[str, Any]) -> bytes:
    """The bytes of a case's document (example / json / text / base64, optional patch)."""
    keys = set(d) - {"patch"}
    if len(keys) != 1:
        raise ValueError(f"a document has exactly one source, not {sorted(keys)}")
    (k,) = keys
    if k == "text":
        return str(d["text"]).encode()
    if k == "base64":
        return bytes(base64.b64decode(d["base64"]))
    if k == "example":
        raw = (spec_dir() / "mycore-ig" / "examples" / d["example"]).read_bytes()
        if "patch" not in d:
            return bytes(raw)
        value = json.loads(raw)
    elif k == "json":
        value = copy.deepcopy(d["json"])
    else:
        raise ValueError(f"unknown document source {k!r}")
    for op in d.get("patch", []):
        value = patch(value, op)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def patch(value: Any, op: Dict[str, Any]) -> Any:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
    if not parts:
        return op.get("value")
    parent = value
    for p in parts[:-1]:
        parent = parent[int(p)] if isinstance(parent, list) else parent[p]
    last = parts[-1]
    kind = op["op"]
    if isinstance(parent, list):
        if kind == "remove":
            del parent[int(last)]
        elif kind == "add":
            parent.insert(len(parent) if last == "-" else int(last), op["value"])
        elif kind == "replace":
            parent[int(last)] = op["value"]
        else:
            raise ValueError(f"unknown patch op {kind!r}")
    else:
        if kind == "remove":
            del parent[last]
        elif kind in ("add", "replace"):
            parent[last] = op["value"]
        else:
            raise ValueError(f"unknown patch op {kind!r}")
    return value


def matches(expect: Any, got: Any, at: str, problems: List[str]) -> None:
    if isinstance(expect, dict) and any(k.startswith("$") for k in expect):
        for k, v in expect.items():
            if k == "$present":
                if (got is not None) != v:
                    problems.append(f"{at}: present={got is not None}, expected {v}")
            elif k == "$contains":
                if not isinstance(got, str) or v not in got:
                    problems.append(f"{at}: {got!r} does not contain {v!r}")
            elif k == "$excludes":
                if isinstance(got, str) and v in got:
                    problems.append(f"{at}: {got!r} contains {v!r}")
            elif k == "$len":
                if not isinstance(got, list) or len(got) != v:
                    problems.append(f"{at}: length {len(got) if isinstance(got, list) else None}, expected {v}")
            else:
                problems.append(f"{at}: unknown matcher {k}")
        return
    if expect is None:
        if got is not None:
            problems.append(f"{at}: {got!r}, expected null/absent")
        return
    if isinstance(expect, dict):
        if not isinstance(got, dict):
            problems.append(f"{at}: {type(got).__name__}, expected an object")
            return
        for k, v in expect.items():
            matches(v, got.get(k), f"{at}.{k}", problems)
    elif isinstance(expect, list):
        if not isinstance(got, list) or len(got) != len(expect):
            problems.append(f"{at}: {got!r}, expected {len(expect)} items")
            return
        for i, (e, g) in enumerate(zip(expect, got)):
            matches(e, g, f"{at}[{i}]", problems)
    elif isinstance(expect, bool) or isinstance(got, bool):
        if expect is not got:
            problems.append(f"{at}: {got!r}, expected {expect!r}")
    elif isinstance(expect, (int, float)):
        if not isinstance(got, (int, float, Decimal)) or Decimal(str(got)) != Decimal(str(expect)):
            problems.append(f"{at}: {got!r}, expected {expect!r}")
    elif expect != got:
        problems.append(f"{at}: {got!r}, expected {expect!r}")


def plain(v: Any) -> Any:
    """Decimals as numbers (what the other runners compare)."""
    return json.loads(json.dumps(v, default=lambda d: float(d) if isinstance(d, Decimal) else str(d)))


def check_keys(inp: Dict[str, Any], allowed: Tuple[str, ...]) -> None:
    unknown = set(inp) - set(allowed)
    if unknown:
        raise ValueError(f"unknown input keys {sorted(unknown)}")


def op_read(inp: Dict[str, Any]) -> Dict[str, Any]:
    check_keys(inp, ("document", "mode", "deny_unknown"))
    try:
        r = fhir.read(document(inp["document"]), lenient=inp.get("mode") == "lenient", deny_unknown=bool(inp.get("deny_unknown")))
    except errors.HieVcError as e:
        return {"error": e.to_dict()}
    return {"result": {"resource": plain(r.to_dict()), "resourceType": r.resourceType, "warnings": [w.to_dict() for w in r.warnings]}}


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)):
        return Decimal(str(a)) == Decimal(str(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return bool(a == b)


def op_round_trip(inp: Dict[str, Any]) -> Dict[str, Any]:
    check_keys(inp, ("document", "mode", "deny_unknown"))
    data = document(inp["document"])
    lenient = inp.get("mode") == "lenient"
    try:
        first = fhir.read(data, lenient=lenient, deny_unknown=bool(inp.get("deny_unknown")))
    except errors.HieVcError as e:
        return {"error": e.to_dict()}
    written = first.to_json()
    try:
        again = fhir.read(written)
    except errors.HieVcError as e:
        return {"rereadError": e.to_dict()}
    return {
        "result": {
            "warnings": [w.to_dict() for w in first.warnings],
            "written": json.loads(written),
            "writtenText": written,
            "sameAsInput": same_value(json.loads(written, parse_float=Decimal), json.loads(data, parse_float=Decimal)),
            "stable": again.to_json() == written,
            "rereadWarnings": [w.to_dict() for w in again.warnings],
        }
    }


def op_validate(inp: Dict[str, Any]) -> Dict[str, Any]:
    check_keys(inp, ("document", "read", "deny_unknown", "accept_published_quirks"))
    try:
        report = mycore.validate(
            document(inp["document"]),
            accept_published_quirks=bool(inp.get("accept_published_quirks")),
            lenient=inp.get("read") == "lenient",
            deny_unknown=bool(inp.get("deny_unknown")),
        )
    except errors.HieVcError as e:
        return {"error": e.to_dict()}
    result: Dict[str, Any] = json.loads(report.to_json())
    return {"result": result}


def op_vc_view(inp: Dict[str, Any]) -> Dict[str, Any]:
    check_keys(inp, ("document", "read", "deny_unknown"))
    try:
        v = mycore.vc_view(document(inp["document"]), lenient=inp.get("read") == "lenient", deny_unknown=bool(inp.get("deny_unknown")))
    except errors.HieVcError as e:
        return {"error": e.to_dict()}
    return {"result": v.to_dict()}


OPS: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {
    "read": op_read,
    "round_trip": op_round_trip,
    "validate": op_validate,
    "vc_view": op_vc_view,
}


def replay(area: str) -> Tuple[int, List[str]]:
    spec = json.loads((SPEC / f"{area}.json").read_text(encoding="utf-8"))
    assert spec["format"] == 1 and spec["area"] == area
    failures: List[str] = []
    for case in spec["cases"]:
        op: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = OPS.get(case["op"])
        if op is None:
            failures.append(f"{case['name']}: unknown op {case['op']!r}")
            continue
        try:
            got = op(case["input"])
        except Exception as e:  # noqa: BLE001 — a runner error fails the case, named
            failures.append(f"{case['name']}: {type(e).__name__}: {e}")
            continue
        problems: List[str] = []
        matches(case["expect"], got, "$", problems)
        failures.extend(f"{case['name']}: {p}" for p in problems)
    return len(spec["cases"]), failures


@pytest.mark.parametrize("area", ["read", "validate"])
def test_behaviour(area: str) -> None:
    n, failures = replay(area)
    assert n > 0
    assert not failures, f"{len(failures)} problem(s) in {area}.json:\n" + "\n".join(failures)


def test_the_runner_reports_a_wrong_expectation() -> None:
    problems: List[str] = []
    matches({"result": {"valid": True, "issues": {"$len": 0}}}, {"result": {"valid": False, "issues": [1]}}, "$", problems)
    assert len(problems) == 2
    problems = []
    matches({"a": {"$nope": 1}}, {"a": 1}, "$", problems)
    assert problems == ["$.a: unknown matcher $nope"]
