"""The Kafka Encounter listener: the callbacks of the VC workflow.

When a patient checks in, HIE publishes the Encounter it created; the listener decodes it (typed,
in Rust, without the GIL), keeps VC Encounters (class VR, serviceType VCI/VCE), and hands them to
you. At-least-once: an event's offset is stored only after your handler returned (or you
acknowledged it); a handler that raises is retried per the retry policy, then the record goes
to the dead-letter topic (or ``on_error``), so a poison record never blocks its partition.

Four ways to run it::

    listener.run(handle)                      # blocking; Ctrl-C or listener.stop() ends it
    await listener.run_async(handle_async)    # handlers awaited on your loop
    async for event in listener: ...          # pull; acknowledged when the next is asked for
    for batch in listener.batches(500, 1.0):  # data-team style; batch.ack() or the next batch
        ...
"""

from __future__ import annotations

import json
import threading
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _native
from ._results import Document, FhirField, FhirList, Field, Warning_, WarningsField
from .errors import Closed
from .fhir import Encounter, Resource, from_dict
from .mycore import VcEncounter

__all__ = ["Listener", "EncounterEvent", "Batch", "Failure"]


class Failure(Document):
    """A record that failed for good (given to ``on_error``)."""

    __slots__ = ()
    reason = Field[str]("reason", "Why: ``decode_syntax``, ``handler``, ``handler_timeout`` ...")
    error = Field[Dict[str, Any]]("error", "The error (kind, message).")
    topic = Field[Optional[str]]("topic", "Where the record was.")
    partition = Field[Optional[int]]("partition", "Its partition.")
    offset = Field[Optional[int]]("offset", "Its offset.")
    attempts = Field[int]("attempts", "Handler attempts made.")
    disposition = Field[Any]("disposition", "What became of it (dead-lettered, skipped ...).")


class EncounterEvent:
    """An Encounter from the listener: typed resource, VC view, what came with it, and the
    record's Kafka coordinates. Resources are built on first access."""

    __slots__ = ("_e", "_encounter", "_vc")

    def __init__(self, native: Any) -> None:
        self._e = native
        self._encounter: Optional[Encounter] = None
        self._vc: Optional[VcEncounter] = None

    @property
    def encounter(self) -> Encounter:
        """The Encounter (typed)."""
        if self._encounter is None:
            self._encounter = Encounter.from_json(self._e.encounter_json())
        return self._encounter

    @property
    def vc(self) -> Optional[VcEncounter]:
        """Its VC view (None for a non-VC Encounter, with ``filter="all"``)."""
        if self._vc is None:
            text = self._e.vc_json()
            if text is None:
                return None
            self._vc = VcEncounter(json.loads(text))
        return self._vc

    @property
    def included(self) -> List[Resource]:
        """Resources that came with it in a Bundle (Patient, Appointment ...)."""
        return [from_dict(json.loads(t)) for t in self._e.included_json()]

    @property
    def warnings(self) -> List[Warning_]:
        """What the lenient read accepted."""
        return [Warning_(w) for w in json.loads(self._e.warnings_json())]

    def to_dict(self) -> Dict[str, Any]:
        """The whole event as the core's JSON document (``encounter``, ``vc``, ``included``,
        ``warnings``, ``layout``, ``topic``, ``partition``, ``offset``, ``key``,
        ``timestampMs``, ``headers``), as every binding gives it."""
        d: Dict[str, Any] = json.loads(self._e.to_json())
        return d

    @property
    def raw(self) -> bytes:
        """The record's value as received."""
        return bytes(self._e.raw)

    @property
    def topic(self) -> str:
        """The topic."""
        return str(self._e.topic)

    @property
    def partition(self) -> int:
        """The partition."""
        return int(self._e.partition)

    @property
    def offset(self) -> int:
        """The offset."""
        return int(self._e.offset)

    @property
    def key(self) -> Optional[bytes]:
        """The record key."""
        k = self._e.key
        return None if k is None else bytes(k)

    @property
    def timestamp(self) -> Optional[int]:
        """Kafka's timestamp, milliseconds since the epoch."""
        t = self._e.timestamp
        return None if t is None else int(t)

    @property
    def headers(self) -> List[Tuple[str, Optional[bytes]]]:
        """The record headers."""
        return [(str(k), None if v is None else bytes(v)) for k, v in self._e.headers]

    @property
    def encounter_id(self) -> Optional[str]:
        """The Encounter id."""
        v = self._e.encounter_id
        return None if v is None else str(v)

    @property
    def is_vc(self) -> bool:
        """Whether it is a VC Encounter."""
        return bool(self._e.is_vc)

    def ack(self) -> None:
        """Handled: its offset may be stored."""
        self._e.ack()

    def fail(self, message: str, *, permanent: bool = False) -> None:
        """Handling failed: retried per the policy (``permanent``: not retried), then
        dead-lettered or given to ``on_error``."""
        self._e.fail(message, permanent)

    @property
    def answered(self) -> bool:
        """Whether :meth:`ack` or :meth:`fail` was called."""
        return bool(self._e.answered)

    def __repr__(self) -> str:
        return f"EncounterEvent(topic={self.topic!r}, partition={self.partition}, offset={self.offset}, encounter_id={self.encounter_id!r})"


class Batch(Sequence[EncounterEvent]):
    """Events taken together (:meth:`Listener.batches`)."""

    __slots__ = ("_events",)

    def __init__(self, events: List[EncounterEvent]) -> None:
        self._events = events

    def __getitem__(self, i: Any) -> Any:
        return self._events[i]

    def __len__(self) -> int:
        return len(self._events)

    def ack(self) -> None:
        """Acknowledges every event not answered yet (their offsets may be stored)."""
        for e in self._events:
            if not e.answered:
                e.ack()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


Security = Mapping[str, Union[str, bool]]


class Listener:
    """Listens on HIE's Encounter topics.

    :param bootstrap: Kafka bootstrap servers (``host:port[,...]``).
    :param topics: the topics HIE publishes Encounters on.
    :param group: the consumer group id.
    :param security: the ``[kafka]`` security settings: ``security_protocol``,
        ``sasl_mechanism``, ``sasl_username``, ``sasl_password``, ``ssl_ca_location``,
        ``ssl_certificate_location``, ``ssl_key_location``, ``ssl_key_password`` (mutual TLS)
        and ``ssl_verify_hostname`` (a bool, default ``True``).
    :param filter: ``"vc"`` (only VC Encounters, default) or ``"all"``.
    :param dead_letter_topic: where records that failed for good go.
    :param dedupe: skip Encounters already handled (same id and version).
    :param retry: handler retries before dead-lettering (an int), or options
        ``{"max_retries", "initial_backoff_ms", "max_backoff_ms"}``.
    :param on_error: called with a :class:`Failure` for each record that failed for good.
    :param options: any other listener option of the core (``read_mode``, ``handler_timeout_ms``,
        ``start_from``, ``properties`` ...).
    """

    def __init__(
        self,
        *,
        bootstrap: Optional[str] = None,
        topics: Optional[Sequence[str]] = None,
        group: Optional[str] = None,
        security: Optional[Security] = None,
        filter: Literal["vc", "all"] = "vc",
        dead_letter_topic: Optional[str] = None,
        dedupe: bool = False,
        retry: Union[int, Mapping[str, int], None] = None,
        on_error: Optional[Callable[[Failure], None]] = None,
        options: Optional[Mapping[str, Any]] = None,
        _native_listener: Any = None,
    ) -> None:
        self._stopping = threading.Event()
        if _native_listener is not None:
            self._l = _native_listener
            return
        kafka: Dict[str, Any] = dict(security or {})
        if bootstrap is not None:
            kafka["bootstrap"] = bootstrap
        if topics is not None:
            kafka["topics"] = list(topics)
        if group is not None:
            kafka["group"] = group
        self._l = _native.Listener(
            json.dumps({"kafka": kafka}),
            None,
            False,
            _spec(filter, dead_letter_topic, dedupe, retry, options),
            _on_error(on_error),
        )

    @classmethod
    def from_settings(
        cls,
        path: Optional[str] = None,
        *,
        on_error: Optional[Callable[[Failure], None]] = None,
        **options: Any,
    ) -> "Listener":
        """A listener from the ``[kafka]`` settings (TOML ``path`` or ``HIE_VC_CONFIG``, then
        ``HIE_VC_*``), as the CLI's ``listen`` reads them."""
        native = _native.Listener(None, path, True, json.dumps(options) if options else None, _on_error(on_error))
        return cls(_native_listener=native)

    @classmethod
    def for_sandbox(
        cls,
        sandbox: Any,
        *,
        group: str = "hie-vc",
        filter: Literal["vc", "all"] = "vc",
        dead_letter_topic: Optional[str] = None,
        dedupe: bool = False,
        retry: Union[int, Mapping[str, int], None] = None,
        on_error: Optional[Callable[[Failure], None]] = None,
        options: Optional[Mapping[str, Any]] = None,
    ) -> "Listener":
        """A listener on a :class:`~hie_vc.sandbox.Sandbox`'s own event source."""
        native = _native.Listener.for_sandbox(
            sandbox._sb, group, _spec(filter, dead_letter_topic, dedupe, retry, options), _on_error(on_error)
        )
        return cls(_native_listener=native)

    # ---- pull ----
    def poll(self, timeout: Optional[float] = None) -> Optional[EncounterEvent]:
        """The next event (None after ``timeout`` seconds). Answer it with ``ack``/``fail``."""
        e = self._l.next(timeout)
        return None if e is None else EncounterEvent(e)

    # ---- blocking handler ----
    def run(self, handler: Callable[[EncounterEvent], Any]) -> None:
        """Calls ``handler`` for each event on this thread until :meth:`stop` (from any thread)
        or Ctrl-C, then closes (commits). An exception from the handler fails the event
        (retried, then dead-lettered)."""
        try:
            while not self._stopping.is_set():
                e = self._l.next(0.2)
                if e is None:
                    continue
                ev = EncounterEvent(e)
                try:
                    handler(ev)
                except Exception as exc:  # noqa: BLE001 — the listener's retry policy decides
                    if not ev.answered:
                        ev.fail(_describe(exc))
                else:
                    if not ev.answered:
                        ev.ack()
        except Closed:
            pass
        finally:
            self._l.close()

    # ---- asyncio ----
    async def run_async(self, handler: Callable[[EncounterEvent], Awaitable[Any]]) -> None:
        """Awaits ``handler`` for each event on the caller's loop until :meth:`stop`, then
        closes."""
        try:
            while True:
                e = await self._l.next_async()
                if e is None:
                    break
                ev = EncounterEvent(e)
                try:
                    await handler(ev)
                except Exception as exc:  # noqa: BLE001
                    if not ev.answered:
                        ev.fail(_describe(exc))
                else:
                    if not ev.answered:
                        ev.ack()
        except Closed:
            pass
        finally:
            await self._l.close_async()

    def __aiter__(self) -> AsyncIterator[EncounterEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[EncounterEvent]:
        previous: Optional[EncounterEvent] = None
        try:
            while True:
                if previous is not None and not previous.answered:
                    previous.ack()
                e = await self._l.next_async()
                if e is None:
                    return
                previous = EncounterEvent(e)
                yield previous
        except Closed:
            return

    # ---- batches ----
    def batches(self, max_records: int = 500, timeout: float = 1.0) -> Iterator[Batch]:
        """Batches of up to ``max_records`` events (waiting up to ``timeout`` seconds for the
        first). A batch is acknowledged when the next one is asked for, or by ``batch.ack()``;
        if the loop ends by an exception, its events are not (they come back after a restart).
        Empty batches are skipped; the iteration ends when the listener stops."""
        previous: Optional[Batch] = None
        try:
            while not self._stopping.is_set():
                if previous is not None:
                    previous.ack()
                    previous = None
                events = self._l.next_batch(max_records, timeout)
                if not events:
                    continue
                previous = Batch([EncounterEvent(e) for e in events])
                yield previous
        except Closed:
            return

    # ---- lifecycle ----
    def stop(self) -> None:
        """Asks the listener to stop (any thread); :meth:`run` returns within a second."""
        self._stopping.set()
        self._l.shutdown()

    def close(self) -> None:
        """Stops, commits the stored offsets and leaves the group. Idempotent."""
        self._stopping.set()
        self._l.close()

    async def aclose(self) -> None:
        """As :meth:`close`, awaitable."""
        self._stopping.set()
        await self._l.close_async()

    @property
    def is_running(self) -> bool:
        """Whether it is running."""
        return bool(self._l.is_running)

    def metrics(self) -> Dict[str, Any]:
        """Counters: processed, handled, retries, dead-lettered, lag ..."""
        data: Dict[str, Any] = json.loads(self._l.metrics())
        return data

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> "Listener":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


def _spec(
    filter: str,
    dead_letter_topic: Optional[str],
    dedupe: bool,
    retry: Union[int, Mapping[str, int], None],
    options: Optional[Mapping[str, Any]],
) -> str:
    if filter not in ("vc", "all"):
        from .errors import InvalidInput

        raise InvalidInput(f"filter must be 'vc' or 'all', not {filter!r}", kind="invalid_input")
    spec: Dict[str, Any] = dict(options or {})
    spec["filter"] = "vc_only" if filter == "vc" else "all"
    if dead_letter_topic is not None:
        spec["dead_letter_topic"] = dead_letter_topic
    if dedupe:
        spec["dedupe"] = True
    if isinstance(retry, int):
        spec["max_retries"] = retry
    elif retry is not None:
        spec.update(retry)
    return json.dumps(spec)


def _on_error(cb: Optional[Callable[[Failure], None]]) -> Optional[Callable[[str], None]]:
    if cb is None:
        return None

    def call(text: str) -> None:
        cb(Failure(json.loads(text)))

    return call
