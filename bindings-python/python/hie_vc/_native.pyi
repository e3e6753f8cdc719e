# Stubs of the native extension (bindings-python/src). Checked by stubtest.
from typing import Any, Awaitable, Callable, ClassVar, List, Optional, Tuple, Union, final

__all__ = [
    "__version__",
    "fhir_read",
    "fhir_write",
    "fhir_debug",
    "Issue",
    "Report",
    "validate",
    "vc_view",
    "build",
    "finish_encounter",
    "scheduling_bundle",
    "booking_bundle",
    "Client",
    "Pages",
    "Call",
    "Sandbox",
    "Listener",
    "Event",
    "Vc",
    "Jitsi",
    "Notifier",
    "demo",
]

__version__: str

def fhir_read(data: Union[str, bytes], lenient: bool = False, deny_unknown: bool = False) -> str: ...
def fhir_write(data: Union[str, bytes], lenient: bool = False) -> str: ...
def fhir_debug(type_name: str, data: Union[str, bytes]) -> str: ...
def validate(
    resource: str,
    accept_published_quirks: bool = False,
    profile_base: Optional[str] = None,
    require_profile_claim: bool = False,
    lenient: bool = False,
    deny_unknown: bool = False,
) -> Report: ...
def vc_view(encounter: str, lenient: bool = False, deny_unknown: bool = False) -> str: ...
def build(kind: str, spec_json: str) -> str: ...
def finish_encounter(encounter: str, end: str) -> str: ...
def scheduling_bundle(schedule: str, slots: List[str], full_url_base: Optional[str] = None) -> str: ...
def booking_bundle(
    appointment: str, slot: str, quota_wire: str = "integer", full_url_base: Optional[str] = None
) -> str: ...
@final
class Issue:
    """One finding of a validation."""

    @property
    def severity(self) -> str:
        """``error``, ``warning`` or ``information``."""
    @property
    def code(self) -> str:
        """The FHIR IssueType code."""
    @property
    def rule(self) -> str:
        """The stable id of the rule."""
    @property
    def location(self) -> str:
        """Where, FHIRPath-like."""
    @property
    def source(self) -> str:
        """``profile`` (a rule the IG's profiles state) or ``workflow`` (a MY Core VC rule)."""
    @property
    def profile_definition(self) -> Optional[str]:
        """The canonical of the StructureDefinition (or CodeSystem) the issue enforces."""
    @property
    def profile_element(self) -> Optional[str]:
        """The element id in it (``Appointment.serviceType``)."""
    @property
    def profile_binding(self) -> Optional[str]:
        """The value set of the binding enforced, if any."""
    @property
    def message(self) -> str:
        """What is wrong and what to do."""
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class Report:
    """The findings of a MY Core validation."""

    @property
    def is_valid(self) -> bool:
        """No error (warnings allowed)."""
    @property
    def issues(self) -> List[Issue]:
        """Every finding, in document order."""
    @property
    def error_count(self) -> int: ...
    @property
    def warning_count(self) -> int: ...
    @property
    def summary(self) -> str: ...
    def to_operation_outcome(self) -> Any:
        """The report as a FHIR OperationOutcome."""
    def to_json(self) -> str: ...
    def __bool__(self) -> bool: ...
    def __len__(self) -> int: ...

@final
class Call:
    def wait(self) -> Optional[str]: ...
    def start(self) -> Awaitable[Optional[str]]: ...

@final
class Pages:
    def next(self) -> Optional[str]: ...
    def next_async(self) -> Awaitable[Optional[str]]: ...

_Headers = Optional[List[Tuple[str, str]]]

@final
class Client:
    def __new__(
        cls, settings_json: Optional[str] = None, path: Optional[str] = None, env: bool = False
    ) -> Client: ...
    @property
    def base_url(self) -> str: ...
    def read(
        self,
        resource_type: str,
        id: str,
        version_id: Optional[str] = None,
        timeout_ms: Optional[int] = None,
        request_id: Optional[str] = None,
        headers: _Headers = None,
        max_retries: Optional[int] = None,
    ) -> Call: ...
    def create(
        self,
        resource: str,
        prefer: Optional[str] = None,
        validate: Optional[bool] = None,
        if_none_exist: Optional[str] = None,
        timeout_ms: Optional[int] = None,
        request_id: Optional[str] = None,
        headers: _Headers = None,
        max_retries: Optional[int] = None,
    ) -> Call: ...
    def update(
        self,
        resource: str,
        if_match: Optional[str] = None,
        if_match_current: bool = False,
        prefer: Optional[str] = None,
        validate: Optional[bool] = None,
        timeout_ms: Optional[int] = None,
        request_id: Optional[str] = None,
        headers: _Headers = None,
        max_retries: Optional[int] = None,
    ) -> Call: ...
    def delete(
        self,
        resource_type: str,
        id: str,
        timeout_ms: Optional[int] = None,
        request_id: Optional[str] = None,
        headers: _Headers = None,
        max_retries: Optional[int] = None,
    ) -> Call: ...
    def bundle(
        self,
        bundle: str,
        transaction: bool = False,
        prefer: Optional[str] = None,
        validate: Optional[bool] = None,
        timeout_ms: Optional[int] = None,
        request_id: Optional[str] = None,
        headers: _Headers = None,
        max_retries: Optional[int] = None,
    ) -> Call: ...
    def capabilities(
        self,
        timeout_ms: Optional[int] = None,
        request_id: Optional[str] = None,
        headers: _Headers = None,
        max_retries: Optional[int] = None,
    ) -> Call: ...
    def find_encounter_for_appointment(self, appointment_id: str) -> Call: ...
    def find_encounters_by_vc_token(self, token: str) -> Call: ...
    def search(
        self,
        resource_type: str,
        params: Optional[List[Tuple[str, str]]] = None,
        via_post: bool = False,
        max_results: Optional[int] = None,
        max_pages: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        request_id: Optional[str] = None,
        headers: _Headers = None,
        max_retries: Optional[int] = None,
    ) -> Pages: ...
    def history(
        self,
        resource_type: Optional[str] = None,
        id: Optional[str] = None,
        count: Optional[int] = None,
        since: Optional[str] = None,
        at: Optional[str] = None,
        max_entries: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        request_id: Optional[str] = None,
        headers: _Headers = None,
        max_retries: Optional[int] = None,
    ) -> Pages: ...

@final
class Sandbox:
    def __new__(cls, options_json: Optional[str] = None) -> Sandbox: ...
    @property
    def url(self) -> str: ...
    @property
    def fhir_base(self) -> str: ...
    def client(self, settings_json: Optional[str] = None) -> Client: ...
    def vc(self, settings_json: Optional[str] = None) -> Vc: ...
    def check_in(self, appointment_id: str, patient_id: Optional[str] = None) -> str: ...
    def set_faults(self, service: str, faults_json: str) -> None: ...
    def clear_faults(self) -> None: ...
    def resource(self, resource_type: str, id: str) -> Optional[str]: ...
    def notifications(self) -> str: ...
    def jitsi_sessions(self) -> str: ...
    def stats(self) -> str: ...
    def publish(
        self,
        value: Optional[bytes],
        key: Optional[bytes] = None,
        headers: List[Tuple[str, bytes]] = ...,
        topic: Optional[str] = None,
        partition: Optional[int] = None,
    ) -> Tuple[str, int, int]: ...
    def topic_records(
        self, topic: str
    ) -> List[Tuple[int, int, Optional[bytes], Optional[bytes], List[Tuple[str, Optional[bytes]]], Optional[int]]]: ...
    def close(self) -> None: ...

@final
class Event:
    def ack(self) -> None: ...
    def fail(self, message: str, permanent: bool = False) -> None: ...
    @property
    def answered(self) -> bool: ...
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> Optional[bytes]: ...
    @property
    def timestamp(self) -> Optional[int]: ...
    @property
    def headers(self) -> List[Tuple[str, Optional[bytes]]]: ...
    @property
    def raw(self) -> bytes: ...
    @property
    def encounter_id(self) -> Optional[str]: ...
    @property
    def version_id(self) -> Optional[str]: ...
    @property
    def is_vc(self) -> bool: ...
    def encounter_json(self) -> str: ...
    def vc_json(self) -> Optional[str]: ...
    def included_json(self) -> List[str]: ...
    def warnings_json(self) -> str: ...
    def to_json(self) -> str: ...

@final
class Listener:
    def __new__(
        cls,
        settings_json: Optional[str] = None,
        path: Optional[str] = None,
        env: bool = False,
        spec_json: Optional[str] = None,
        on_error: Optional[Callable[[str], None]] = None,
    ) -> Listener: ...
    @staticmethod
    def for_sandbox(
        sandbox: Sandbox,
        group: str = "hie-vc",
        spec_json: Optional[str] = None,
        on_error: Optional[Callable[[str], None]] = None,
    ) -> Listener: ...
    def next(self, timeout: Optional[float] = None) -> Optional[Event]: ...
    def next_async(self) -> Awaitable[Optional[Event]]: ...
    def next_batch(self, max_records: int, timeout: float) -> List[Event]: ...
    def next_batch_async(self, max_records: int, timeout: float) -> Awaitable[List[Event]]: ...
    def shutdown(self) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...
    def close_async(self) -> Awaitable[None]: ...
    @property
    def is_running(self) -> bool: ...
    def metrics(self) -> str: ...

@final
class Vc:
    def __new__(
        cls,
        settings_json: Optional[str] = None,
        path: Optional[str] = None,
        env: bool = False,
        patient_id_systems: Optional[List[str]] = None,
    ) -> Vc: ...
    @staticmethod
    def for_sandbox(sandbox: Sandbox) -> Vc: ...
    def create_session(self) -> Call: ...
    def schedule(self, schedule: str, slots: List[str]) -> Call: ...
    def book(self, appointment: str, slot_id: Optional[str] = None) -> Call: ...
    def start(self, encounter: str, practitioner_json: str, included: List[str] = ...) -> Call: ...
    def finish(self, encounter_id: str) -> Call: ...
    def handle_arrival(self, event: Event, practitioner_json: str) -> Optional[str]: ...

def demo(kafka: Optional[str] = None, arrival_timeout: float = 60.0) -> None: ...

@final
class Jitsi:
    def __new__(cls, settings_json: Optional[str] = None, path: Optional[str] = None, env: bool = False) -> Jitsi: ...
    @staticmethod
    def for_sandbox(sandbox: Sandbox) -> Jitsi: ...
    @property
    def kind(self) -> str: ...
    def create_session(self) -> Call: ...
    def join(self, session_token: str, participant_json: str) -> Call: ...
    def activate(self, session_token: str) -> Call: ...
    def end(self, session_token: str) -> Call: ...

@final
class Notifier:
    def __new__(cls, settings_json: Optional[str] = None, path: Optional[str] = None, env: bool = False) -> Notifier: ...
    @staticmethod
    def for_sandbox(sandbox: Sandbox) -> Notifier: ...
    def login(self) -> Call: ...
    def send(self, title: str, body: str, patient_ids: List[str]) -> Call: ...
