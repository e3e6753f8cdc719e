"""The cross-language behaviour spec (tests/behaviour/*.json, format in its README) replayed
on the Python package's public API: the same cases the Rust suite runs, matched against the
same JSON documents. Every failing case of a file is reported by name; an unknown op, input
key or matcher fails its case."""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from hie_vc import errors, fhir, mycore
from hie_vc.client import HieClient
from hie_vc.listener import EncounterEvent, Failure, Listener
from hie_vc.sandbox import Sandbox, ServiceStats
from hie_vc.vc import VirtualConsultation

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


DOCUMENT_KEYS = ("example", "json", "text", "base64", "patch")
LISTEN_OPTIONS = (
    "format",
    "filter",
    "read_mode",
    "max_message_bytes",
    "max_retries",
    "initial_backoff_ms",
    "dead_letter_topic",
    "dedupe",
)
#: How long a listen case's listener gets to finish every record.
LISTEN_WAIT = 10.0


def _text(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.decode("utf-8", errors="replace")


def op_listen(inp: Dict[str, Any]) -> Dict[str, Any]:
    """Records on a fresh sandbox's in-process broker (topic vc-encounters, partition 0), read
    by a listener whose handler records each event and succeeds or raises."""
    check_keys(inp, ("options", "handler", "records"))
    handler_kind = inp.get("handler", "ok")
    if handler_kind not in ("ok", "fail"):
        raise ValueError(f"handler is 'ok' or 'fail', not {handler_kind!r}")
    opts: Dict[str, Any] = dict(inp.get("options", {}))
    check_keys(opts, LISTEN_OPTIONS)
    with Sandbox() as sb:
        records = inp["records"]
        for i, r in enumerate(records):
            check_keys(r, DOCUMENT_KEYS + ("key", "headers", "tombstone"))
            if r.get("tombstone"):
                if any(k in r for k in DOCUMENT_KEYS):
                    raise ValueError(f"records[{i}]: a tombstone has no document")
                value: Optional[bytes] = None
            else:
                value = document({k: v for k, v in r.items() if k in DOCUMENT_KEYS})
            sb.publish(value, key=r.get("key"), headers=[(k, v) for k, v in r.get("headers", [])], partition=0)

        events: List[Dict[str, Any]] = []
        failures: List[Dict[str, Any]] = []
        filt = opts.pop("filter", None)
        retry: Dict[str, int] = {k: int(opts.pop(k)) for k in ("max_retries", "initial_backoff_ms") if k in opts}
        dlt = opts.pop("dead_letter_topic", None)
        dedupe = bool(opts.pop("dedupe", False))
        listener = Listener.for_sandbox(
            sb,
            group="behaviour",
            filter={None: "vc", "vc_only": "vc", "all": "all"}.get(filt, filt),
            dead_letter_topic=dlt,
            dedupe=dedupe,
            retry=retry or None,
            on_error=lambda f: failures.append(f.to_dict()),
            options=opts,
        )

        def handle(ev: EncounterEvent) -> None:
            events.append(ev.to_dict())
            if handler_kind == "fail":
                raise RuntimeError("the case's handler fails")

        run = threading.Thread(target=listener.run, args=(handle,), daemon=True)
        run.start()
        n = len(records)
        deadline = time.monotonic() + LISTEN_WAIT
        while True:
            m = listener.metrics()
            if m["processed"] >= n and len(failures) >= m["decodeErrors"] + m["handlerFailures"]:
                break
            if time.monotonic() >= deadline:
                listener.close()
                raise TimeoutError(f"the listener did not finish {n} records within {LISTEN_WAIT} s: {m}")
            time.sleep(0.01)
        listener.close()
        run.join(10)
        if run.is_alive():
            raise TimeoutError("run() did not return after close()")
        dead = []
        for rec in sb.topic_records(dlt) if dlt else []:
            headers: Dict[str, Optional[str]] = {}
            for k, v in rec.headers:
                headers.setdefault(k, _text(v))
            dead.append({"key": _text(rec.key), "payload": _text(rec.value), "headers": headers})
        return {"events": events, "failures": failures, "deadLetters": dead, "metrics": listener.metrics()}


CLIENT_STEPS = ("read", "create", "update", "delete", "search", "faults", "clear_faults", "stats", "records")
VC_STEPS = ("create_session", "schedule", "book", "check_in", "start", "finish")
STEP_KEYS: Dict[str, Tuple[str, ...]] = {
    "read": ("type", "id"),
    "delete": ("type", "id"),
    "create": ("resource",),
    "update": ("resource", "if_match"),
    "search": ("type", "params"),
    "faults": ("service", "faults"),
    "clear_faults": (),
    "stats": (),
    "records": (),
    "create_session": (),
    "finish": (),
    "schedule": ("schedule", "slots"),
    "book": ("appointment", "slot"),
    "check_in": ("appointment", "patient"),
    "start": ("practitioner",),
}


def only_document(d: Dict[str, Any], what: str) -> fhir.Resource:
    """A resource document, read strictly (a document that does not read fails the case)."""
    check_keys(d, DOCUMENT_KEYS)
    try:
        return fhir.read(document(d))
    except errors.HieVcError as e:
        raise ValueError(f"{what} does not read strictly: {e}") from e


def substitute(v: Any, old: str, new: str) -> Any:
    if isinstance(v, str):
        return v.replace(old, new)
    if isinstance(v, list):
        return [substitute(x, old, new) for x in v]
    if isinstance(v, dict):
        return {k: substitute(x, old, new) for k, x in v.items()}
    return v


class Scenario:
    """A `client` / `vc` case's run: a sandbox, clients from its settings and the case's."""

    def __init__(self, sb: Sandbox, settings: Dict[str, Dict[str, Any]]) -> None:
        self.sb = sb
        self.hie = HieClient.for_sandbox(sb, settings=settings)
        self.vc = VirtualConsultation.for_sandbox(sb, settings=settings)
        self.stats: Dict[str, ServiceStats] = {}
        self.token: Optional[str] = None
        self.encounter: Optional[fhir.Resource] = None
        self.encounter_id: Optional[str] = None

    def step(self, name: str, step: Dict[str, Any]) -> Dict[str, Any]:
        try:
            return {"result": self._run(name, step)}
        except errors.HieVcError as e:
            return {"error": e.to_dict()}

    def _run(self, name: str, step: Dict[str, Any]) -> Any:
        hie, vc, sb = self.hie, self.vc, self.sb
        if name == "read":
            return hie.read(step["type"], step["id"]).to_dict()
        if name == "create":
            return hie.create(only_document(step["resource"], "resource")).to_dict()
        if name == "update":
            return hie.update(only_document(step["resource"], "resource"), if_match=step.get("if_match")).to_dict()
        if name == "delete":
            return hie.delete(step["type"], step["id"]).to_dict()
        if name == "search":
            page = next(hie.search_pages(step["type"], [tuple(p) for p in step.get("params", [])]))
            return page.to_dict()
        if name == "faults":
            sb.set_faults(step["service"], **step["faults"])
            return {}
        if name == "clear_faults":
            sb.clear_faults()
            return {}
        if name == "stats":
            now = sb.stats()
            out = {
                k: {f: getattr(v, f) - getattr(self.stats[k], f) for f in ServiceStats._fields} for k, v in now.items()
            }
            self.stats = now
            return out
        if name == "records":
            return {"notifications": sb.notifications(), "jitsiSessions": sb.jitsi_sessions()}
        if name == "create_session":
            s = vc.create_session()
            self.token = str(s["token"])
            return s
        if name == "schedule":
            return vc.schedule(
                only_document(step["schedule"], "schedule"),
                [only_document(s, f"slots[{i}]") for i, s in enumerate(step["slots"])],
            ).to_dict()
        if name == "book":
            return vc.book(only_document(step["appointment"], "appointment"), slot_id=step.get("slot")).to_dict()
        if name == "check_in":
            try:
                c = sb.check_in(step["appointment"], patient_id=step.get("patient"))
            except errors.HieVcError as e:
                raise ValueError(f"check-in of {step['appointment']}: {e}") from e
            self.encounter, self.encounter_id = c.encounter, c.encounter_id
            return c.to_dict()
        if name == "start":
            if self.encounter is None:
                raise ValueError("start needs a check_in step before it")
            return vc.start(self.encounter, practitioner=step["practitioner"]).to_dict()
        if name == "finish":
            if self.encounter_id is None:
                raise ValueError("finish needs a check_in step before it")
            return vc.finish(self.encounter_id).to_dict()
        raise AssertionError(name)


def op_scenario(op: str, inp: Dict[str, Any]) -> Dict[str, Any]:
    check_keys(inp, ("sandbox", "settings", "seed", "steps"))
    sandbox_opts = inp.get("sandbox", {})
    check_keys(sandbox_opts, ("payload", "validate", "check_references", "require_profile_claim", "allow_delete"))
    with Sandbox(**sandbox_opts) as sb:
        run = Scenario(sb, inp.get("settings", {}))
        for i, doc in enumerate(inp.get("seed", [])):
            try:
                run.hie.update(only_document(doc, f"seed[{i}]"))
            except errors.HieVcError as e:
                raise ValueError(f"seed[{i}] was not stored: {e}") from e
        run.stats = sb.stats()
        out = []
        for i, step in enumerate(inp["steps"]):
            name = step.get("do")
            if name not in CLIENT_STEPS and not (op == "vc" and name in VC_STEPS):
                raise ValueError(f"steps[{i}]: {name!r} is not a step of the {op} op")
            check_keys(step, ("do",) + STEP_KEYS[name])
            if run.token is not None:
                step = substitute(step, "{{token}}", run.token)
            if run.encounter_id is not None:
                step = substitute(step, "{{encounter}}", run.encounter_id)
            started = time.monotonic()
            out.append(plain(run.step(name, step)))
            if time.monotonic() - started > 30:
                raise TimeoutError(f"steps[{i}] ({name}) took over 30 s")
        return {"steps": out}


OPS: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {
    "read": op_read,
    "round_trip": op_round_trip,
    "validate": op_validate,
    "vc_view": op_vc_view,
    "listen": op_listen,
    "client": lambda inp: op_scenario("client", inp),
    "vc": lambda inp: op_scenario("vc", inp),
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


@pytest.mark.parametrize("area", ["read", "validate", "listener", "client", "vc"])
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
