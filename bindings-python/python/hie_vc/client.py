"""The HIE FHIR client, blocking (:class:`HieClient`) and asyncio (:class:`AsyncHieClient`), as
httpx has ``Client`` and ``AsyncClient``. Both run the same Rust client: MY Core validation
before writes, retries with backoff that honour ``Retry-After``, OAuth2 token caching, a fresh
``X-Request-Id`` per call. Blocking calls release the GIL while they wait.
"""

from __future__ import annotations

import json
import math
from typing import (
    Any,
    AsyncIterator,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _native
from ._results import Document, FhirField, FhirList, Field, WarningsField
from .fhir import Resource, from_dict, resource_json

__all__ = [
    "HieClient",
    "AsyncHieClient",
    "OAuth2",
    "Written",
    "Fetched",
    "Deleted",
    "SearchPage",
    "HistoryPage",
    "HistoryEntry",
    "BundleOutcome",
    "EntryOutcome",
    "Capabilities",
]

ResourceArg = Union[Resource, Mapping[str, Any], str, bytes]
Params = Union[Mapping[str, Union[str, Sequence[str]]], Sequence[Tuple[str, str]], None]


class OAuth2:
    """OAuth2 client-credentials authentication (the token is fetched and renewed for you)."""

    __slots__ = ("token_url", "client_id", "_secret", "scope")

    def __init__(
        self, token_url: str, client_id: str, client_secret: str, *, scope: Optional[str] = None
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope

    def __repr__(self) -> str:
        return f"OAuth2(token_url={self.token_url!r}, client_id={self.client_id!r}, client_secret=<redacted>)"


Auth = Union[str, Tuple[str, str], OAuth2, None]


class Written(Document):
    """The outcome of a create or update."""

    __slots__ = ()
    status = Field[int]("status", "HTTP status (201 created, 200 updated).")
    kind = Field[str]("kind", "``created``, ``updated`` or ``existing`` (conditional create).")
    id = Field[Optional[str]]("id", "The resource's id.")
    version_id = Field[Optional[str]]("versionId", "Its new version id.")
    location = Field[Optional[str]]("location", "The ``Location`` header.")
    etag = Field[Optional[str]]("etag", "The ``ETag`` header.")
    last_modified = Field[Optional[str]]("lastModified", "The ``Last-Modified`` header.")
    resource = FhirField[Optional[Resource]]("resource", "The resource (``prefer='representation'``).")
    outcome = FhirField[Optional[Resource]]("outcome", "The OperationOutcome, if one came back.")
    warnings = WarningsField("warnings", "Read warnings (lenient reads).")
    request_id = Field[str]("requestId", "The ``X-Request-Id`` sent.")

    @property
    def created(self) -> bool:
        """Whether the write created the resource."""
        return self.kind == "created"


class Fetched(Document):
    """A resource read from the server."""

    __slots__ = ()
    resource = FhirField[Resource]("resource", "The resource.")
    etag = Field[Optional[str]]("etag", "The ``ETag`` header.")
    version_id = Field[Optional[str]]("versionId", "The version id.")
    last_modified = Field[Optional[str]]("lastModified", "The ``Last-Modified`` header.")
    warnings = WarningsField("warnings", "Read warnings (lenient reads).")
    request_id = Field[str]("requestId", "The ``X-Request-Id`` sent.")


class Deleted(Document):
    """The outcome of a delete."""

    __slots__ = ()
    status = Field[int]("status", "HTTP status.")
    outcome = FhirField[Optional[Resource]]("outcome", "The OperationOutcome, if one came back.")
    request_id = Field[str]("requestId", "The ``X-Request-Id`` sent.")


class SearchPage(Document):
    """One page of search results."""

    __slots__ = ()
    matches = FhirList[List[Resource]]("matches", "The resources that matched.")
    included = FhirList[List[Resource]]("included", "Resources ``_include``-d with them.")
    outcome = FhirField[Optional[Resource]]("outcome", "An OperationOutcome the server added.")
    total = Field[Optional[int]]("total", "The server's total, when it gives one.")
    next = Field[Optional[str]]("next", "The link to the next page.")
    warnings = WarningsField("warnings", "Read warnings (lenient reads).")
    request_id = Field[str]("requestId", "The ``X-Request-Id`` sent.")


class HistoryEntry(Document):
    """One version in a history."""

    __slots__ = ()
    resource = FhirField[Optional[Resource]]("resource", "The version (None for a delete).")
    full_url = Field[Optional[str]]("fullUrl", "Its full URL.")
    method = Field[Optional[str]]("method", "The HTTP method that made it.")
    request_url = Field[Optional[str]]("requestUrl", "The URL of that request.")
    status = Field[Optional[str]]("status", "The status of that request.")
    version_id = Field[Optional[str]]("versionId", "The version id.")
    last_modified = Field[Optional[str]]("lastModified", "When.")
    deleted = Field[bool]("deleted", "Whether this version is a delete.")


class HistoryPage(Document):
    """One page of a history."""

    __slots__ = ()
    total = Field[Optional[int]]("total", "The server's total, when it gives one.")
    next = Field[Optional[str]]("next", "The link to the next page.")
    warnings = WarningsField("warnings", "Read warnings (lenient reads).")
    request_id = Field[str]("requestId", "The ``X-Request-Id`` sent.")

    @property
    def entries(self) -> List[HistoryEntry]:
        """The versions, newest first."""
        return [HistoryEntry(e) for e in self._data.get("entries") or []]


class EntryOutcome(Document):
    """The outcome of one entry of a batch or transaction."""

    __slots__ = ()
    status = Field[Optional[int]]("status", "The entry's HTTP status.")
    location = Field[Optional[str]]("location", "Its ``Location``.")
    etag = Field[Optional[str]]("etag", "Its ``ETag``.")
    resource = FhirField[Optional[Resource]]("resource", "The resource returned for it.")
    outcome = FhirField[Optional[Resource]]("outcome", "Its OperationOutcome.")


class BundleOutcome(Document):
    """The outcome of a batch or transaction."""

    __slots__ = ()
    kind = Field[str]("kind", "``batch`` or ``transaction``.")
    success = Field[bool]("success", "Whether every entry succeeded.")
    request_id = Field[str]("requestId", "The ``X-Request-Id`` sent.")

    @property
    def entries(self) -> List[EntryOutcome]:
        """One outcome per entry, in order."""
        return [EntryOutcome(e) for e in self._data.get("entries") or []]


class Capabilities(Document):
    """What the server says it supports (its CapabilityStatement)."""

    __slots__ = ()
    fhir_version = Field[Optional[str]]("fhirVersion", "The FHIR version.")
    software = Field[Optional[str]]("software", "The server software.")
    formats = Field[List[str]]("formats", "The formats it speaks.")
    resource_types = Field[List[str]]("resourceTypes", "The resource types it serves.")
    statement = Field[Dict[str, Any]]("statement", "The CapabilityStatement as JSON.")
    request_id = Field[str]("requestId", "The ``X-Request-Id`` sent.")


def _settings(
    url: Optional[str],
    auth: Auth,
    timeout: Optional[float],
    validate: Optional[bool],
    profile_base: Optional[str],
    max_retries: Optional[int],
    headers: Optional[Mapping[str, str]],
    secret_headers: Optional[Mapping[str, str]],
) -> str:
    hie: Dict[str, Any] = {}
    if url is not None:
        hie["url"] = url
    if isinstance(auth, str):
        hie["bearer_token"] = auth
    elif isinstance(auth, tuple):
        if len(auth) != 2:
            raise _invalid("auth=(username, password) needs exactly two items")
        hie["basic_username"], hie["basic_password"] = auth
    elif isinstance(auth, OAuth2):
        hie["oauth_token_url"] = auth.token_url
        hie["oauth_client_id"] = auth.client_id
        hie["oauth_client_secret"] = auth._secret
        if auth.scope:
            hie["oauth_scope"] = auth.scope
    elif auth is not None:
        raise _invalid("auth must be a bearer token (str), (username, password) or OAuth2(...)")
    if timeout is not None:
        hie["timeout_secs"] = max(1, math.ceil(timeout))
    if validate is not None:
        hie["validate"] = validate
    if profile_base is not None:
        hie["profile_base"] = profile_base
    if max_retries is not None:
        hie["max_retries"] = max_retries
    if headers:
        hie["headers"] = [f"{k}: {v}" for k, v in headers.items()]
    if secret_headers:
        hie["secret_headers"] = [f"{k}: {v}" for k, v in secret_headers.items()]
    return json.dumps({"hie": hie})


def _invalid(message: str) -> Exception:
    from .errors import InvalidInput

    return InvalidInput(message, kind="invalid_input")


def _params(params: Params) -> List[Tuple[str, str]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        out: List[Tuple[str, str]] = []
        for k, v in params.items():
            if isinstance(v, str):
                out.append((k, v))
            else:
                out.extend((k, x) for x in v)
        return out
    return [(str(k), str(v)) for k, v in params]


def _ms(timeout: Optional[float]) -> Optional[int]:
    return None if timeout is None else max(1, int(timeout * 1000))


def _hdrs(headers: Optional[Mapping[str, str]]) -> Optional[List[Tuple[str, str]]]:
    return None if headers is None else list(headers.items())


class _Base:
    __slots__ = ("_c",)
    _c: Any

    def _init(
        self,
        url: Optional[str],
        auth: Auth,
        timeout: Optional[float],
        validate: Optional[bool],
        profile_base: Optional[str],
        max_retries: Optional[int],
        headers: Optional[Mapping[str, str]],
        secret_headers: Optional[Mapping[str, str]],
    ) -> None:
        if url is None:
            raise _invalid("url is required (or use from_settings())")
        self._c = _native.Client(
            _settings(url, auth, timeout, validate, profile_base, max_retries, headers, secret_headers)
        )

    @property
    def base_url(self) -> str:
        """The server's base URL."""
        return str(self._c.base_url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"


class HieClient(_Base):
    """A blocking client of an HIE FHIR R4 server.

    >>> client = HieClient("https://fhir.hie.moh.gov.my/baseR4/", auth="token")  # doctest: +SKIP
    >>> appt = client.read("Appointment", "appt-1").resource                        # doctest: +SKIP

    Thread-safe: one client (one connection pool, one OAuth2 token cache) may serve every thread.
    """

    __slots__ = ()

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        auth: Auth = None,
        timeout: Optional[float] = None,
        validate: Optional[bool] = None,
        profile_base: Optional[str] = None,
        max_retries: Optional[int] = None,
        headers: Optional[Mapping[str, str]] = None,
        secret_headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._init(url, auth, timeout, validate, profile_base, max_retries, headers, secret_headers)

    @classmethod
    def from_settings(cls, path: Optional[str] = None) -> "HieClient":
        """A client from the ``[hie]`` settings: the TOML file ``path`` (default: the file named
        by ``HIE_VC_CONFIG``), then the ``HIE_VC_*`` variables, as the CLI reads them."""
        self = cls.__new__(cls)
        self._c = _native.Client(None, path, True)
        return self

    @classmethod
    def for_sandbox(cls, sandbox: Any, *, settings: Optional[Mapping[str, Mapping[str, Any]]] = None) -> "HieClient":
        """A client of a :class:`~hie_vc.sandbox.Sandbox`; ``settings`` (sections as the TOML
        has them, e.g. ``{"hie": {"max_retries": 0}}``) go on top of the sandbox's own."""
        return cls._wrap(sandbox._sb.client(None if settings is None else json.dumps(settings)))

    @classmethod
    def _wrap(cls, native: Any) -> "HieClient":
        self = cls.__new__(cls)
        self._c = native
        return self

    def read(
        self,
        resource_type: str,
        id: str,
        *,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Fetched:
        """``GET [base]/[type]/[id]``. Raises :class:`~hie_vc.errors.NotFound` or
        :class:`~hie_vc.errors.Gone`."""
        return Fetched._from_json(
            self._c.read(resource_type, id, None, _ms(timeout), request_id, _hdrs(headers), max_retries).wait()
        )

    def vread(
        self,
        resource_type: str,
        id: str,
        version_id: str,
        *,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Fetched:
        """``GET [base]/[type]/[id]/_history/[version_id]``."""
        return Fetched._from_json(
            self._c.read(resource_type, id, version_id, _ms(timeout), request_id, _hdrs(headers), max_retries).wait()
        )

    def create(
        self,
        resource: ResourceArg,
        *,
        prefer: Optional[str] = None,
        validate: Optional[bool] = None,
        if_none_exist: Optional[str] = None,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Written:
        """``POST [base]/[type]``: the server picks the id. ``if_none_exist`` (a search query)
        makes it conditional. Never retried (a POST is not idempotent)."""
        return Written._from_json(
            self._c.create(
                resource_json(resource), prefer, validate, if_none_exist, _ms(timeout), request_id, _hdrs(headers), max_retries
            ).wait()
        )

    def update(
        self,
        resource: ResourceArg,
        *,
        if_match: Optional[str] = None,
        if_match_current: bool = False,
        prefer: Optional[str] = None,
        validate: Optional[bool] = None,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Written:
        """``PUT [base]/[type]/[id]`` with the resource's own id; creates it when new
        (update-as-create). ``if_match`` (a version id) raises
        :class:`~hie_vc.errors.PreconditionFailed` when it is not the current one."""
        return Written._from_json(
            self._c.update(
                resource_json(resource), if_match, if_match_current, prefer, validate, _ms(timeout), request_id, _hdrs(headers), max_retries
            ).wait()
        )

    def delete(
        self,
        resource_type: str,
        id: str,
        *,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Deleted:
        """``DELETE [base]/[type]/[id]``."""
        return Deleted._from_json(
            self._c.delete(resource_type, id, _ms(timeout), request_id, _hdrs(headers), max_retries).wait()
        )

    def search_pages(
        self,
        resource_type: str,
        params: Params = None,
        *,
        via_post: bool = False,
        max_results: Optional[int] = None,
        max_pages: Optional[int] = None,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Iterator[SearchPage]:
        """The pages of a search, each fetched when the loop reaches it."""
        pages = self._c.search(
            resource_type, _params(params), via_post, max_results, max_pages, _ms(timeout), request_id, _hdrs(headers), max_retries
        )
        while True:
            text = pages.next()
            if text is None:
                return
            yield SearchPage._from_json(text)

    def search(self, resource_type: str, params: Params = None, **kwargs: Any) -> Iterator[Resource]:
        """Every match of a search over all its pages (``next`` links followed as the loop
        goes; bounded by ``max_results`` / ``max_pages``). Keyword arguments as
        :meth:`search_pages`."""
        for page in self.search_pages(resource_type, params, **kwargs):
            yield from page.matches

    def history(
        self,
        resource_type: Optional[str] = None,
        id: Optional[str] = None,
        *,
        count: Optional[int] = None,
        since: Optional[str] = None,
        at: Optional[str] = None,
        max_entries: Optional[int] = None,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Iterator[HistoryPage]:
        """The pages of the history of an instance (type and id), a type, or the server."""
        pages = self._c.history(
            resource_type, id, count, since, at, max_entries, _ms(timeout), request_id, _hdrs(headers), max_retries
        )
        while True:
            text = pages.next()
            if text is None:
                return
            yield HistoryPage._from_json(text)

    def batch(self, bundle: ResourceArg, **kwargs: Any) -> BundleOutcome:
        """Sends a Bundle as a ``batch`` (entries processed independently)."""
        return self._bundle(bundle, False, **kwargs)

    def transaction(self, bundle: ResourceArg, **kwargs: Any) -> BundleOutcome:
        """Sends a Bundle as a ``transaction`` (all entries or none)."""
        return self._bundle(bundle, True, **kwargs)

    def _bundle(
        self,
        bundle: ResourceArg,
        transaction: bool,
        *,
        prefer: Optional[str] = None,
        validate: Optional[bool] = None,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> BundleOutcome:
        return BundleOutcome._from_json(
            self._c.bundle(
                resource_json(bundle), transaction, prefer, validate, _ms(timeout), request_id, _hdrs(headers), max_retries
            ).wait()
        )

    def capabilities(
        self,
        *,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Capabilities:
        """``GET [base]/metadata``."""
        return Capabilities._from_json(
            self._c.capabilities(_ms(timeout), request_id, _hdrs(headers), max_retries).wait()
        )

    def find_encounter_for_appointment(self, appointment_id: str) -> Optional[Resource]:
        """The Encounter HIE created when the patient checked in for the Appointment (None
        before check-in)."""
        text = self._c.find_encounter_for_appointment(appointment_id).wait()
        return None if text is None else from_dict(json.loads(text))

    def find_encounters_by_vc_token(self, token: str) -> List[Resource]:
        """Every Encounter of a VC session (its vc-token identifier)."""
        return [from_dict(e) for e in json.loads(self._c.find_encounters_by_vc_token(token).wait())]


class AsyncHieClient(_Base):
    """The asyncio client: every call is awaitable on the caller's loop; cancelling the
    awaiting task aborts the request. Same arguments as :class:`HieClient`."""

    __slots__ = ()

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        auth: Auth = None,
        timeout: Optional[float] = None,
        validate: Optional[bool] = None,
        profile_base: Optional[str] = None,
        max_retries: Optional[int] = None,
        headers: Optional[Mapping[str, str]] = None,
        secret_headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._init(url, auth, timeout, validate, profile_base, max_retries, headers, secret_headers)

    @classmethod
    def from_settings(cls, path: Optional[str] = None) -> "AsyncHieClient":
        """As :meth:`HieClient.from_settings`."""
        self = cls.__new__(cls)
        self._c = _native.Client(None, path, True)
        return self

    @classmethod
    def for_sandbox(cls, sandbox: Any, *, settings: Optional[Mapping[str, Mapping[str, Any]]] = None) -> "AsyncHieClient":
        """A client of a :class:`~hie_vc.sandbox.Sandbox`; ``settings`` (sections as the TOML
        has them, e.g. ``{"hie": {"max_retries": 0}}``) go on top of the sandbox's own."""
        return cls._wrap(sandbox._sb.client(None if settings is None else json.dumps(settings)))

    @classmethod
    def _wrap(cls, native: Any) -> "AsyncHieClient":
        self = cls.__new__(cls)
        self._c = native
        return self

    async def read(
        self,
        resource_type: str,
        id: str,
        *,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Fetched:
        """As :meth:`HieClient.read`."""
        return Fetched._from_json(
            await self._c.read(resource_type, id, None, _ms(timeout), request_id, _hdrs(headers), max_retries).start()
        )

    async def vread(
        self,
        resource_type: str,
        id: str,
        version_id: str,
        *,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Fetched:
        """As :meth:`HieClient.vread`."""
        return Fetched._from_json(
            await self._c.read(resource_type, id, version_id, _ms(timeout), request_id, _hdrs(headers), max_retries).start()
        )

    async def create(
        self,
        resource: ResourceArg,
        *,
        prefer: Optional[str] = None,
        validate: Optional[bool] = None,
        if_none_exist: Optional[str] = None,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Written:
        """As :meth:`HieClient.create`."""
        return Written._from_json(
            await self._c.create(
                resource_json(resource), prefer, validate, if_none_exist, _ms(timeout), request_id, _hdrs(headers), max_retries
            ).start()
        )

    async def update(
        self,
        resource: ResourceArg,
        *,
        if_match: Optional[str] = None,
        if_match_current: bool = False,
        prefer: Optional[str] = None,
        validate: Optional[bool] = None,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Written:
        """As :meth:`HieClient.update`."""
        return Written._from_json(
            await self._c.update(
                resource_json(resource), if_match, if_match_current, prefer, validate, _ms(timeout), request_id, _hdrs(headers), max_retries
            ).start()
        )

    async def delete(
        self,
        resource_type: str,
        id: str,
        *,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Deleted:
        """As :meth:`HieClient.delete`."""
        return Deleted._from_json(
            await self._c.delete(resource_type, id, _ms(timeout), request_id, _hdrs(headers), max_retries).start()
        )

    async def search_pages(
        self,
        resource_type: str,
        params: Params = None,
        *,
        via_post: bool = False,
        max_results: Optional[int] = None,
        max_pages: Optional[int] = None,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> AsyncIterator[SearchPage]:
        """As :meth:`HieClient.search_pages`, with ``async for``."""
        pages = self._c.search(
            resource_type, _params(params), via_post, max_results, max_pages, _ms(timeout), request_id, _hdrs(headers), max_retries
        )
        while True:
            text = await pages.next_async()
            if text is None:
                return
            yield SearchPage._from_json(text)

    async def search(self, resource_type: str, params: Params = None, **kwargs: Any) -> AsyncIterator[Resource]:
        """As :meth:`HieClient.search`, with ``async for``."""
        async for page in self.search_pages(resource_type, params, **kwargs):
            for r in page.matches:
                yield r

    async def history(
        self,
        resource_type: Optional[str] = None,
        id: Optional[str] = None,
        *,
        count: Optional[int] = None,
        since: Optional[str] = None,
        at: Optional[str] = None,
        max_entries: Optional[int] = None,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> AsyncIterator[HistoryPage]:
        """As :meth:`HieClient.history`, with ``async for``."""
        pages = self._c.history(
            resource_type, id, count, since, at, max_entries, _ms(timeout), request_id, _hdrs(headers), max_retries
        )
        while True:
            text = await pages.next_async()
            if text is None:
                return
            yield HistoryPage._from_json(text)

    async def batch(self, bundle: ResourceArg, **kwargs: Any) -> BundleOutcome:
        """As :meth:`HieClient.batch`."""
        return await self._bundle(bundle, False, **kwargs)

    async def transaction(self, bundle: ResourceArg, **kwargs: Any) -> BundleOutcome:
        """As :meth:`HieClient.transaction`."""
        return await self._bundle(bundle, True, **kwargs)

    async def _bundle(
        self,
        bundle: ResourceArg,
        transaction: bool,
        *,
        prefer: Optional[str] = None,
        validate: Optional[bool] = None,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> BundleOutcome:
        return BundleOutcome._from_json(
            await self._c.bundle(
                resource_json(bundle), transaction, prefer, validate, _ms(timeout), request_id, _hdrs(headers), max_retries
            ).start()
        )

    async def capabilities(
        self,
        *,
        timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_retries: Optional[int] = None,
    ) -> Capabilities:
        """As :meth:`HieClient.capabilities`."""
        return Capabilities._from_json(
            await self._c.capabilities(_ms(timeout), request_id, _hdrs(headers), max_retries).start()
        )

    async def find_encounter_for_appointment(self, appointment_id: str) -> Optional[Resource]:
        """As :meth:`HieClient.find_encounter_for_appointment`."""
        text = await self._c.find_encounter_for_appointment(appointment_id).start()
        return None if text is None else from_dict(json.loads(text))

    async def find_encounters_by_vc_token(self, token: str) -> List[Resource]:
        """As :meth:`HieClient.find_encounters_by_vc_token`."""
        return [from_dict(e) for e in json.loads(await self._c.find_encounters_by_vc_token(token).start())]
