"""Helpers for the asyncio bridge of the native module (not public API)."""

from __future__ import annotations

import asyncio
from typing import Any, Optional


def resolve(future: "asyncio.Future[Any]", value: Any, error: Optional[BaseException]) -> None:
    """Completes ``future`` on its loop unless it was cancelled meanwhile."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
