"""The HIE client, blocking and asyncio, against the embedded sandbox (its FHIR API is a real
HTTP server in this process) and its fault switches."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import hie_vc
from hie_vc import errors
from hie_vc.sandbox import Sandbox


def test_update_as_create_read_vread_delete(sandbox: Sandbox, appointment: hie_vc.fhir.Appointment) -> None:
    c = sandbox.client
    w = c.update(appointment)
    assert w.created and w.id == "py-appt-1" and w.version_id == "1"
    assert w.request_id
    f = c.read("Appointment", "py-appt-1")
    assert isinstance(f.resource, hie_vc.fhir.Appointment) and f.resource.id == "py-appt-1"
    assert f.version_id == "1"
    w2 = c.update(f.resource, if_match="1")
    assert not w2.created and w2.version_id == "2"
    assert c.vread("Appointment", "py-appt-1", "1").version_id == "1"
    with pytest.raises(errors.PreconditionFailed) as e:
        c.update(f.resource, if_match="1")
    assert e.value.status == 412 and e.value.kind == "precondition_failed"
    assert c.delete("Appointment", "py-appt-1").status in (200, 204)
    with pytest.raises(errors.Gone):
        c.read("Appointment", "py-appt-1")
    with pytest.raises(errors.NotFound) as nf:
        c.read("Appointment", "never-there")
    assert nf.value.request_id


def test_validation_before_sending_carries_the_report(sandbox: Sandbox, appointment: hie_vc.fhir.Appointment) -> None:
    bad = appointment.to_dict()
    del bad["serviceType"]
    with pytest.raises(errors.InvalidResource) as e:
        sandbox.client.update(bad)
    report = e.value.report
    assert report is not None and not report.is_valid
    assert any(i.severity == "error" for i in report.issues)
    assert isinstance(e.value, ValueError)


def test_search_iterates_every_page(sandbox: Sandbox) -> None:
    c = sandbox.client
    for i in range(7):
        c.update(
            hie_vc.mycore.vci_appointment(
                id=f"py-page-{i}",
                specialty="86",
                patient={"id": "py-pat-9", "display": "Ali"},
                start="2023-07-10T21:00:00+08:00",
                end="2023-07-10T22:00:00+08:00",
            )
        )
    pages = list(c.search_pages("Appointment", {"patient": "Patient/py-pat-9", "_count": "3"}))
    assert len(pages) == 3
    ids = sorted(str(r.to_dict()["id"]) for r in c.search("Appointment", [("patient", "Patient/py-pat-9"), ("_count", "3")]))
    assert ids == [f"py-page-{i}" for i in range(7)]
    hist = list(c.history("Appointment", "py-page-0"))
    assert hist[0].entries[0].version_id == "1"


def test_faults_map_to_the_hierarchy_and_retries_recover(sandbox: Sandbox) -> None:
    c = sandbox.client
    sandbox.set_faults("fhir", down=True)
    try:
        with pytest.raises(errors.Unavailable) as e:
            c.read("Appointment", "x", max_retries=0)
        assert e.value.retryable
    finally:
        sandbox.clear_faults()
    sandbox.set_faults("fhir", fail_next=2, fail_status=503)
    try:
        assert c.capabilities().fhir_version
    finally:
        sandbox.clear_faults()
    sandbox.set_faults("fhir", fail_next=1, fail_status=429, retry_after_secs=1)
    try:
        with pytest.raises(errors.RateLimited) as rl:
            c.capabilities(max_retries=0)
        assert rl.value.retry_after == 1.0 and rl.value.status == 429
    finally:
        sandbox.clear_faults()


def test_async_client_on_the_callers_loop(sandbox: Sandbox, appointment: hie_vc.fhir.Appointment) -> None:
    ac = sandbox.async_client()

    async def main() -> None:
        loop_thread = threading.get_ident()
        w = await ac.update(appointment)
        assert threading.get_ident() == loop_thread
        assert w.id == "py-appt-1"
        got = await asyncio.gather(*(ac.read("Appointment", "py-appt-1") for _ in range(20)))
        assert {g.resource.to_dict()["id"] for g in got} == {"py-appt-1"}
        with pytest.raises(errors.NotFound):
            await ac.read("Appointment", "nope")
        ids = [r.to_dict()["id"] async for r in ac.search("Appointment", {"_id": "py-appt-1"})]
        assert ids == ["py-appt-1"]

    asyncio.run(main())


def test_async_cancel_aborts_the_request(sandbox: Sandbox) -> None:
    ac = sandbox.async_client()
    sandbox.set_faults("fhir", latency_ms=3000)

    async def main() -> float:
        t = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ac.capabilities(), 0.2)
        return time.monotonic() - t

    try:
        assert asyncio.run(main()) < 1.5
    finally:
        sandbox.clear_faults()


def test_blocking_calls_release_the_gil(sandbox: Sandbox) -> None:
    sandbox.set_faults("fhir", latency_ms=500)
    counted = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal counted
        while not stop.is_set():
            counted += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        sandbox.client.capabilities()
    finally:
        stop.set()
        t.join()
        sandbox.clear_faults()
    assert counted > 100_000


def test_constructor_errors_are_typed() -> None:
    with pytest.raises(errors.InvalidInput):
        hie_vc.HieClient()
    with pytest.raises(errors.ConfigError):
        hie_vc.HieClient("not a url")
    with pytest.raises(errors.InvalidInput):
        hie_vc.HieClient("http://127.0.0.1:1/", auth=42)  # type: ignore[arg-type]
    c = hie_vc.HieClient("http://127.0.0.1:1/fhir/", auth=("user", "s3cret-pw"), max_retries=0, timeout=1)
    assert "s3cret" not in repr(c)
    with pytest.raises(errors.Unavailable) as e:
        c.capabilities()
    assert "s3cret" not in str(e.value)
