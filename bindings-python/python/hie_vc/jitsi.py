"""Jitsi video sessions: one provider over HIE's token service, self-hosted Jitsi Meet or 8x8
JaaS (the ``[jitsi]`` settings choose), blocking (:class:`Jitsi`) or asyncio
(:class:`AsyncJitsi`); and the HIE Notification API client (:class:`Notifier`,
:class:`AsyncNotifier`) that tells patients their consultation starts."""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Sequence

from . import _native

__all__ = ["Jitsi", "AsyncJitsi", "Notifier", "AsyncNotifier"]

Settings = Mapping[str, Mapping[str, Any]]


def _participant(p: Mapping[str, str]) -> str:
    return json.dumps(dict(p))


class _JitsiBase:
    _j: Any

    def __init__(self, settings: Optional[Settings] = None, *, path: Optional[str] = None) -> None:
        """From settings sections (``{"jitsi": {...}}``) or the TOML file ``path``."""
        self._j = _native.Jitsi(json.dumps(settings) if settings else None, path, False)

    @classmethod
    def from_settings(cls, path: Optional[str] = None) -> Any:
        """From the ``[jitsi]`` settings (TOML ``path`` or ``HIE_VC_CONFIG``, then ``HIE_VC_*``)."""
        self = cls.__new__(cls)
        self._j = _native.Jitsi(None, path, True)
        return self

    @classmethod
    def for_sandbox(cls, sandbox: Any) -> Any:
        """The provider of a :class:`~hie_vc.sandbox.Sandbox`'s Jitsi token service."""
        self = cls.__new__(cls)
        self._j = _native.Jitsi.for_sandbox(sandbox._sb)
        return self

    @property
    def kind(self) -> str:
        """``hie-rest``, ``self-hosted`` or ``jaas``."""
        return str(self._j.kind)


class Jitsi(_JitsiBase):
    """A Jitsi provider, blocking."""

    def create_session(self) -> Dict[str, Any]:
        """A new session: ``{"token", "room"}`` (the token ties a VCE group together)."""
        data: Dict[str, Any] = json.loads(self._j.create_session().wait())
        return data

    def join(self, session_token: str, participant: Mapping[str, str]) -> Dict[str, Any]:
        """A participant's join (``{"role": "practitioner" | "patient", "id", "name", ...}``):
        ``{"role", "room", "url", "token", "expiresAtMs"}`` — the URL and token are credentials."""
        data: Dict[str, Any] = json.loads(self._j.join(session_token, _participant(participant)).wait())
        return data

    def activate(self, session_token: str) -> None:
        """Marks the session active (patients may join)."""
        self._j.activate(session_token).wait()

    def end(self, session_token: str) -> str:
        """Ends the session: ``ended``, ``not_running`` or ``unsupported``."""
        return str(json.loads(self._j.end(session_token).wait()))


class AsyncJitsi(_JitsiBase):
    """A Jitsi provider, awaitable on the caller's loop."""

    async def create_session(self) -> Dict[str, Any]:
        """As :meth:`Jitsi.create_session`."""
        data: Dict[str, Any] = json.loads(await self._j.create_session().start())
        return data

    async def join(self, session_token: str, participant: Mapping[str, str]) -> Dict[str, Any]:
        """As :meth:`Jitsi.join`."""
        data: Dict[str, Any] = json.loads(await self._j.join(session_token, _participant(participant)).start())
        return data

    async def activate(self, session_token: str) -> None:
        """As :meth:`Jitsi.activate`."""
        await self._j.activate(session_token).start()

    async def end(self, session_token: str) -> str:
        """As :meth:`Jitsi.end`."""
        return str(json.loads(await self._j.end(session_token).start()))


class _NotifierBase:
    _n: Any

    def __init__(self, settings: Optional[Settings] = None, *, path: Optional[str] = None) -> None:
        """From settings sections (``{"notify": {...}}``) or the TOML file ``path``."""
        self._n = _native.Notifier(json.dumps(settings) if settings else None, path, False)

    @classmethod
    def from_settings(cls, path: Optional[str] = None) -> Any:
        """From the ``[notify]`` settings (TOML ``path`` or ``HIE_VC_CONFIG``, then ``HIE_VC_*``)."""
        self = cls.__new__(cls)
        self._n = _native.Notifier(None, path, True)
        return self

    @classmethod
    def for_sandbox(cls, sandbox: Any) -> Any:
        """The client of a :class:`~hie_vc.sandbox.Sandbox`'s Notification API."""
        self = cls.__new__(cls)
        self._n = _native.Notifier.for_sandbox(sandbox._sb)
        return self


class Notifier(_NotifierBase):
    """The Notification API client, blocking."""

    def login(self) -> None:
        """Logs in now (otherwise on the first send)."""
        self._n.login().wait()

    def send(self, title: str, body: str, patient_ids: Sequence[str]) -> Dict[str, Any]:
        """Notifies the patients (MyKad or other ids): ``{"status", "requestId", "response"}``."""
        data: Dict[str, Any] = json.loads(self._n.send(title, body, list(patient_ids)).wait())
        return data


class AsyncNotifier(_NotifierBase):
    """The Notification API client, awaitable on the caller's loop."""

    async def login(self) -> None:
        """As :meth:`Notifier.login`."""
        await self._n.login().start()

    async def send(self, title: str, body: str, patient_ids: Sequence[str]) -> Dict[str, Any]:
        """As :meth:`Notifier.send`."""
        data: Dict[str, Any] = json.loads(await self._n.send(title, body, list(patient_ids)).start())
        return data
