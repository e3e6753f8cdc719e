"""The listener from Python: on the sandbox's in-process broker (every mode), and on the real
Kafka broker of tests/services/kafka.sh with records produced by confluent-kafka."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
from typing import Any, List

import pytest

import hie_vc
from hie_vc import errors, mycore
from hie_vc.listener import EncounterEvent, Failure, Listener
from hie_vc.sandbox import Sandbox


def book(sb: Sandbox, appt_id: str) -> None:
    sb.client.update(
        mycore.vci_appointment(
            id=appt_id,
            specialty="86",
            patient={"id": f"pt-{appt_id}", "display": "Siti"},
            start="2023-07-10T21:00:00+08:00",
            end="2023-07-10T22:00:00+08:00",
        )
    )


def test_poll_ack_and_the_typed_event(sandbox: Sandbox) -> None:
    listener = Listener.for_sandbox(sandbox, group=f"g-{uuid.uuid4()}")
    try:
        book(sandbox, "lis-1")
        ci = sandbox.check_in("lis-1")
        ev = listener.poll(timeout=10)
        assert ev is not None
        assert ev.encounter.id == ci.encounter_id
        assert ev.encounter.class_ is not None and ev.encounter.class_.code == "VR"
        assert ev.vc is not None and ev.vc.vc_type == "VCI"
        assert json.loads(ev.raw)["resourceType"] in ("Encounter", "Bundle")
        assert ev.topic and ev.offset >= 0
        ev.ack()
        assert ev.answered
        with pytest.raises(errors.InvalidInput):
            ev.ack()
        assert listener.poll(timeout=0.2) is None
    finally:
        listener.close()
    with pytest.raises(errors.Closed):
        listener.poll(timeout=0.1)


def test_run_stores_after_the_handler_and_dead_letters_what_keeps_failing(sandbox: Sandbox) -> None:
    failures: List[Failure] = []
    seen: List[str] = []
    listener = Listener.for_sandbox(
        sandbox, group=f"g-{uuid.uuid4()}", retry={"max_retries": 2, "initial_backoff_ms": 10}, on_error=failures.append
    )

    def handler(ev: EncounterEvent) -> None:
        seen.append(str(ev.encounter.id))
        if len(seen) <= 3:
            raise RuntimeError("downstream not ready")
        listener.stop()

    book(sandbox, "lis-2")
    sandbox.check_in("lis-2")
    book(sandbox, "lis-3")
    sandbox.check_in("lis-3")
    t = threading.Timer(20, listener.stop)
    t.start()
    try:
        listener.run(handler)
    finally:
        t.cancel()
    # the first record failed 3 times (1 + 2 retries) and was reported; the second was handled
    assert len(failures) == 1 and failures[0].reason == "handler"
    assert len(seen) == 4
    m = listener.metrics()
    assert m["handled"] >= 1 and m["retries"] == 2


def test_stop_from_another_thread_ends_run_within_a_second(sandbox: Sandbox) -> None:
    listener = Listener.for_sandbox(sandbox, group=f"g-{uuid.uuid4()}")
    threading.Timer(0.3, listener.stop).start()
    t = time.monotonic()
    listener.run(lambda ev: None)
    assert time.monotonic() - t < 1.5


def test_async_for_and_run_async_on_the_callers_loop(sandbox: Sandbox) -> None:
    async def main() -> List[str]:
        listener = Listener.for_sandbox(sandbox, group=f"g-{uuid.uuid4()}")
        got: List[str] = []
        book(sandbox, "lis-4")
        sandbox.check_in("lis-4")
        async for ev in listener:
            got.append(str(ev.encounter.id))
            break
        await listener.aclose()
        return got

    assert len(asyncio.run(main())) == 1


def test_batches_ack_when_the_next_is_asked_for(sandbox: Sandbox) -> None:
    listener = Listener.for_sandbox(sandbox, group=f"g-{uuid.uuid4()}")
    for i in range(5):
        book(sandbox, f"lis-b{i}")
        sandbox.check_in(f"lis-b{i}")
    total = 0
    for batch in listener.batches(max_records=10, timeout=2.0):
        total += len(batch)
        if total >= 5:
            batch.ack()
            break
    assert total >= 5
    listener.close()


def test_bad_options_are_typed_errors(sandbox: Sandbox) -> None:
    with pytest.raises(errors.InvalidInput):
        Listener.for_sandbox(sandbox, filter="some")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidInput):
        Listener.for_sandbox(sandbox, options={"filtr": "all"})


KAFKA = os.environ.get("HIEVC_KAFKA_BOOTSTRAP")


def _kafka() -> str:
    if not KAFKA:
        pytest.fail("needs Kafka: set HIEVC_KAFKA_BOOTSTRAP (tests/services/kafka.sh start)")
    return KAFKA


def _produce(topic: str, payloads: List[bytes], headers: bool = False) -> None:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": _kafka(), "linger.ms": 5})
    for i, v in enumerate(payloads):
        p.produce(topic, value=v, key=f"k{i}".encode(), headers=[("trace", b"t-%d" % i)] if headers else None)
    assert p.flush(30) == 0


def _delete_topic(topic: str) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": _kafka()})
    for f in admin.delete_topics([topic]).values():
        f.result(30)


def _encounter(i: int) -> bytes:
    return json.dumps(
        {
            "resourceType": "Encounter",
            "id": f"enc-{i}",
            "status": "planned",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR"},
            "serviceType": {
                "coding": [{"system": "http://fhir.hie.moh.gov.my/CodeSystem/service-type-my-core", "code": "VCI"}]
            },
            "identifier": [{"system": "http://fhir.hie.moh.gov.my/sid/vc-token", "value": f"tok-{i}"}],
            "subject": {"reference": f"Patient/p{i}"},
        }
    ).encode()


@pytest.mark.kafka
def test_kafka_records_from_confluent_kafka_reach_sync_async_and_batch_handlers() -> None:
    topic = f"py-enc-{uuid.uuid4().hex[:8]}"
    _produce(topic, [_encounter(i) for i in range(30)], headers=True)
    common = dict(bootstrap=_kafka(), topics=[topic], options={"start_from": "earliest"})
    l1 = Listener(group=f"g-{uuid.uuid4()}", **common)  # type: ignore[arg-type]
    ids: List[str] = []

    def h(ev: EncounterEvent) -> None:
        ids.append(str(ev.encounter.id))
        assert ev.headers[0] == ("trace", ev.headers[0][1])
        if len(ids) == 30:
            l1.stop()

    threading.Timer(60, l1.stop).start()
    l1.run(h)
    assert sorted(ids) == sorted(f"enc-{i}" for i in range(30))

    async def asy() -> int:
        l2 = Listener(group=f"g-{uuid.uuid4()}", **common)  # type: ignore[arg-type]
        n = 0

        async def ah(ev: EncounterEvent) -> None:
            nonlocal n
            n += 1
            if n == 30:
                l2.stop()

        await asyncio.wait_for(l2.run_async(ah), 60)
        return n

    assert asyncio.run(asy()) == 30
    l3 = Listener(group=f"g-{uuid.uuid4()}", **common)  # type: ignore[arg-type]
    got = 0
    for batch in l3.batches(100, 5.0):
        got += len(batch)
        if got >= 30:
            break
    l3.close()
    assert got == 30


@pytest.mark.kafka
def test_kafka_a_raising_handler_ends_in_the_dead_letter_topic_with_headers() -> None:
    from confluent_kafka import Consumer

    topic = f"py-enc-{uuid.uuid4().hex[:8]}"
    dlq = f"{topic}-dlq"
    _produce(topic, [_encounter(1)], headers=True)
    l = Listener(
        bootstrap=_kafka(),
        topics=[topic],
        group=f"g-{uuid.uuid4()}",
        dead_letter_topic=dlq,
        retry={"max_retries": 1, "initial_backoff_ms": 10},
        options={"start_from": "earliest"},
    )
    calls = 0

    def h(ev: EncounterEvent) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            threading.Timer(1.0, l.stop).start()
        raise ValueError("cannot start the session")

    threading.Timer(60, l.stop).start()
    l.run(h)
    assert calls == 2
    c = Consumer({"bootstrap.servers": _kafka(), "group.id": f"dlq-{uuid.uuid4()}", "auto.offset.reset": "earliest"})
    c.subscribe([dlq])
    msg = None
    deadline = time.monotonic() + 30
    while msg is None and time.monotonic() < deadline:
        m = c.poll(1.0)
        if m is not None and m.error() is None:
            msg = m
    c.close()
    assert msg is not None
    value = msg.value()
    assert isinstance(value, bytes) and json.loads(value)["id"] == "enc-1"
    raw_headers: Any = msg.headers() or []
    hdrs = {str(k): v if isinstance(v, bytes) else b"" for k, v in raw_headers}
    assert hdrs.get("trace") == b"t-0"
    assert any(k.startswith("hievc.dlq.") for k in hdrs)
    assert b"cannot start the session" in b"".join(hdrs.values())


def test_ctrl_c_ends_run_within_a_second_and_closes() -> None:
    import signal
    import subprocess
    import sys

    code = (
        # A child inherits an ignored SIGINT from a suite started in the background (`cmd &`),
        # and CPython then installs no KeyboardInterrupt handler: restore it, as a terminal has.
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from hie_vc.sandbox import Sandbox\n"
        "from hie_vc.listener import Listener\n"
        "with Sandbox() as sb:\n"
        "    l = Listener.for_sandbox(sb)\n"
        "    print('ready', flush=True)\n"
        "    t = time.monotonic()\n"
        "    try:\n"
        "        l.run(lambda ev: None)\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted after %.2f s, running=%s' % (time.monotonic() - t, l.is_running), flush=True)\n"
        "        sys.exit(130)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    killer = threading.Timer(10, p.kill)  # a run() that ignores Ctrl-C fails, never hangs
    killer.start()
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    line = p.stdout.readline().strip()
    took = time.monotonic() - sent
    _, err = p.communicate(timeout=30)
    killer.cancel()
    assert p.returncode == 130, err
    # run() returned (listener closed) within a second of Ctrl-C; the 0.5 s margin is the
    # pipe and the scheduler on a loaded CI machine.
    assert took < 1.5, took
    assert line.startswith("interrupted after") and line.endswith("running=False"), line


@pytest.mark.kafka
def test_kafka_kill_9_mid_stream_then_restart_loses_nothing(tmp_path: Any) -> None:
    import signal
    import subprocess
    import sys

    n = 20_000
    topic = f"py-kill-{uuid.uuid4().hex[:8]}"
    group = f"g-{uuid.uuid4()}"
    _produce(topic, [_encounter(i) for i in range(n)])
    seen = tmp_path / "seen.txt"
    code = (
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)  # see the Ctrl-C test\n"
        "from hie_vc.listener import Listener\n"
        f"l = Listener(bootstrap={_kafka()!r}, topics=[{topic!r}], group={group!r}, options={{'start_from': 'earliest'}})\n"
        f"out = open({str(seen)!r}, 'a', buffering=1)\n"
        "l.run(lambda ev: out.write(str(ev.encounter.id) + '\\n'))\n"
    )

    def handled() -> List[str]:
        return seen.read_text().split() if seen.exists() else []

    def run_until(cond: Any, timeout: float) -> "subprocess.Popen[bytes]":
        p = subprocess.Popen([sys.executable, "-c", code])
        deadline = time.monotonic() + timeout
        while not cond() and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        return p

    first = run_until(lambda: len(handled()) >= n // 4, 120)
    first.send_signal(signal.SIGKILL)  # mid-stream: no close, no commit of what was in flight
    first.wait()
    assert len(handled()) < n, "the first run finished before the kill"
    second = run_until(lambda: len(set(handled())) >= n, 300)
    second.send_signal(signal.SIGINT)
    second.wait(30)
    ids = set(handled())
    assert ids == {f"enc-{i}" for i in range(n)}, f"{n - len(ids)} lost"
    # at-least-once: what the kill cut short may come twice, nothing more than the in-flight tail
    assert len(handled()) - n < n // 2


def test_a_poison_record_published_on_the_sandbox_is_dead_lettered_and_does_not_block() -> None:
    failures: List[Failure] = []
    sandbox = Sandbox(check_references=False)  # its own: the topic starts empty
    listener = Listener.for_sandbox(sandbox, dead_letter_topic="vc-dlq", on_error=failures.append)
    try:
        topic, partition, offset = sandbox.publish(b"{not json", key="poison", headers=[("trace", "t-1")])
        book(sandbox, "lis-poison")
        ci = sandbox.check_in("lis-poison")
        ev = listener.poll(timeout=10)
        assert ev is not None and ev.encounter.id == ci.encounter_id  # the poison did not block
        assert ev.to_dict()["encounterId"] == ci.encounter_id
        ev.ack()
        dead = sandbox.topic_records("vc-dlq")
        assert len(dead) == 1
        assert dead[0].key == b"poison" and dead[0].value == b"{not json"
        headers = dict(dead[0].headers)
        assert headers["trace"] == b"t-1"
        assert headers["hievc.dlq.reason"] == b"decode/not_json"
        assert headers["hievc.dlq.original.topic"] == topic.encode()
        assert (failures[0].partition, failures[0].offset) == (partition, offset)
        with pytest.raises(errors.InvalidInput):
            sandbox.publish(b"x", topic="t", partition=3)  # the topic has one partition
    finally:
        listener.close()
        sandbox.close()


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.kafka
def test_kafka_200k_records_through_a_no_op_handler_without_rss_growth() -> None:
    """Reference leaks show as memory that grows with the record count: RSS and the number of
    live Python objects are taken after the first 50 000 records (pools warm) and after all
    200 000; every tenth event also builds its typed Encounter and VC view."""
    import gc

    from .encounters import vc_encounter

    n, warm = 200_000, 50_000
    topic = f"py-rss-{uuid.uuid4().hex[:8]}"
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": _kafka(), "linger.ms": 20, "queue.buffering.max.messages": 200_000})
    for i in range(n):
        p.produce(topic, value=vc_encounter(i))
        if i % 50_000 == 0:
            p.poll(0)
    assert p.flush(120) == 0
    listener = Listener(bootstrap=_kafka(), topics=[topic], group=f"g-{uuid.uuid4()}", options={"start_from": "earliest"})
    seen = 0
    marks: List[tuple[int, int]] = []

    def handler(ev: EncounterEvent) -> None:
        nonlocal seen
        seen += 1
        if seen % 10 == 0:
            assert ev.encounter.id is not None and ev.vc is not None
        if seen in (warm, n):
            gc.collect()
            marks.append((_rss_kb(), len(gc.get_objects())))
        if seen == n:
            listener.stop()

    t = threading.Timer(600, listener.stop)
    t.start()
    try:
        listener.run(handler)
    finally:
        t.cancel()
        listener.close()
        _delete_topic(topic)  # 300 MB the shared test broker would otherwise keep
    assert seen == n, f"{seen} of {n} records handled"
    (rss_warm, objs_warm), (rss_end, objs_end) = marks
    # 150 000 leaked events would be hundreds of MB and 150 000+ objects
    assert rss_end - rss_warm < 16 * 1024, f"RSS grew {rss_end - rss_warm} kB over 150 000 records"
    assert objs_end - objs_warm < 1_000, f"{objs_end - objs_warm} more live objects after 150 000 records"


def test_a_waiting_listener_leaves_the_gil_to_other_threads(sandbox: Sandbox) -> None:
    """A second thread counts while the main thread is alone, then while it waits in poll():
    a wait that held the GIL would leave it (almost) nothing."""
    listener = Listener.for_sandbox(sandbox, group=f"g-{uuid.uuid4()}")

    def count_while(wait: Any) -> int:
        counted = 0
        stop = threading.Event()

        def spin() -> None:
            nonlocal counted
            while not stop.is_set():
                counted += 1

        t = threading.Thread(target=spin)
        t.start()
        try:
            wait()
        finally:
            stop.set()
            t.join()
        return counted

    try:
        while (ev := listener.poll(timeout=0.2)) is not None:  # what earlier tests left on the topic
            ev.ack()
        alone = count_while(lambda: time.sleep(0.5))
        polling = count_while(lambda: listener.poll(timeout=0.5))
    finally:
        listener.close()
    assert polling > alone * 0.3, f"{polling} counts while poll() waited, {alone} while sleeping"
