"""Jitsi provider and Notification API client from Python, on the sandbox's services."""

from __future__ import annotations

import asyncio

import pytest

from hie_vc import errors
from hie_vc.jitsi import AsyncJitsi, Jitsi, Notifier
from hie_vc.sandbox import Sandbox


def test_session_join_activate_end(sandbox: Sandbox) -> None:
    j = Jitsi.for_sandbox(sandbox)
    assert j.kind == "hie-rest"
    s = j.create_session()
    join = j.join(s["token"], {"role": "practitioner", "id": "pr1", "name": "Dr A"})
    assert join["role"] == "practitioner" and join["url"].startswith("http")
    j.activate(s["token"])
    assert j.end(s["token"]) in ("ended", "not_running")
    with pytest.raises(errors.InvalidInput):
        j.join(s["token"], {"role": "nobody"})

    async def main() -> str:
        aj = AsyncJitsi.for_sandbox(sandbox)
        s2 = await aj.create_session()
        return str(s2["token"])

    assert asyncio.run(main())


def test_notification_reaches_the_sandbox(sandbox: Sandbox) -> None:
    n = Notifier.for_sandbox(sandbox)
    before = len(sandbox.notifications())
    sent = n.send("Your consultation", "Join now", ["950728106051"])
    assert sent["status"] in (200, 201, 202)
    assert len(sandbox.notifications()) == before + 1
    sandbox.set_faults("notify", down=True)
    try:
        with pytest.raises(errors.Unavailable):
            n.send("x", "y", ["950728106051"])
    finally:
        sandbox.clear_faults()
