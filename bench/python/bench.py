"""One run of the Python listener benchmark (bench/python/run.sh runs them side by side).

    python bench.py MODE BOOTSTRAP TOPIC COUNT

MODE is one of
  raw       (a) confluent-kafka Consumer + json.loads of each value: untyped, the Python limit
  fhirres   (b) confluent-kafka Consumer + fhir.resources (R4B) Encounter of each value: what a
            data team writes today
  listener  (c) hie_vc.Listener.run into a no-op handler (typed, validated events)
  typed     (c') as (c), the handler also builds the event's typed Python Encounter and VC view
  batches   (d) hie_vc.Listener.batches, each batch acked by asking for the next

Each run is a fresh consumer group, timed from its first record to its COUNT-th. Prints one line
of key=value: count, secs, msgs_per_sec, cpu_us_per_record (user+system of the whole process,
first record to last), peak_rss_kb (VmHWM).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import uuid
from typing import Any, Callable


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


class Clock:
    def __init__(self, count: int) -> None:
        self.count = count
        self.n = 0
        self.t0 = 0.0
        self.c0 = 0.0
        self.t1 = 0.0
        self.c1 = 0.0

    def tick(self, k: int = 1) -> bool:
        """Counts k records; True once COUNT were seen."""
        if self.n == 0:
            self.t0, self.c0 = time.perf_counter(), cpu()
        self.n += k
        if self.n >= self.count:
            self.t1, self.c1 = time.perf_counter(), cpu()
            return True
        return False

    def report(self, mode: str) -> None:
        secs = self.t1 - self.t0
        print(
            f"mode={mode} count={self.n} secs={secs:.3f} msgs_per_sec={self.n / secs:.0f} "
            f"cpu_us_per_record={(self.c1 - self.c0) * 1e6 / self.n:.1f} peak_rss_kb={peak_rss_kb()}",
            flush=True,
        )


def confluent(bootstrap: str, topic: str, clock: Clock, decode: Callable[[bytes], Any]) -> None:
    from confluent_kafka import Consumer

    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
        }
    )
    c.subscribe([topic])
    try:
        while True:
            # consume() in batches is confluent-kafka's fast path (one call per 500 records)
            for m in c.consume(500, 1.0):
                if m.error():
                    raise RuntimeError(str(m.error()))
                decode(m.value())
                if clock.tick():
                    return
    finally:
        c.close()


def produce(bootstrap: str, topic: str, count: int, partitions: int) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings-python"))
    from tests.encounters import vc_encounter

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        f.result(30)
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "queue.buffering.max.messages": 200_000})
    size = 0
    for i in range(count):
        v = vc_encounter(i)
        size += len(v)
        while True:
            try:
                p.produce(topic, value=v, key=b"k%d" % i)
                break
            except BufferError:
                p.poll(0.05)
    if p.flush(120) != 0:
        raise SystemExit("records left unsent")
    print(f"produced {count} records of {size // count} bytes on average to {topic} ({partitions} partitions)", file=sys.stderr)


def delete(bootstrap: str, topic: str) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the futures resolve
    for f in admin.delete_topics([topic]).values():
        f.result(30)


def main() -> None:
    mode, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "delete":
        return delete(bootstrap, topic)
    count = int(sys.argv[4])
    if mode == "produce":
        return produce(bootstrap, topic, count, int(sys.argv[5]))
    clock = Clock(count)
    if mode == "raw":
        confluent(bootstrap, topic, clock, json.loads)
    elif mode == "fhirres":
        from fhir.resources.R4B.encounter import Encounter

        confluent(bootstrap, topic, clock, Encounter.model_validate_json)
    elif mode in ("listener", "typed", "batches"):
        from hie_vc.listener import EncounterEvent, Listener

        listener = Listener(
            bootstrap=bootstrap, topics=[topic], group=f"bench-{uuid.uuid4()}", options={"start_from": "earliest"}
        )
        if mode == "batches":
            for batch in listener.batches(1000, 1.0):
                if clock.tick(len(batch)):
                    break
        else:
            touch = mode == "typed"

            def handler(ev: EncounterEvent) -> None:
                if touch:
                    ev.encounter
                    ev.vc
                if clock.tick():
                    listener.stop()

            listener.run(handler)
        listener.close()
    else:
        raise SystemExit(f"unknown mode {mode}")
    clock.report(mode)


if __name__ == "__main__":
    main()
