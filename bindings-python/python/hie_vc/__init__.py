"""hie_vc — the SDK for Malaysia's HIE Virtual Consultation workflow (FHIR R4, MY Core).

* :mod:`hie_vc.fhir` — typed FHIR resources, read and written by the Rust model.
* :mod:`hie_vc.mycore` — MY Core builders, validation, the VC view of an Encounter.
* :class:`HieClient` / :class:`AsyncHieClient` — the HIE FHIR client.
* :mod:`hie_vc.sandbox` — the embedded HIE emulator.
* :mod:`hie_vc.errors` — one exception hierarchy under :class:`HieVcError`.
"""

from __future__ import annotations

from . import errors, fhir, mycore
from ._native import __version__
from .client import AsyncHieClient, HieClient, OAuth2
from .errors import HieVcError

__all__ = [
    "__version__",
    "errors",
    "fhir",
    "mycore",
    "sandbox",
    "HieClient",
    "AsyncHieClient",
    "OAuth2",
    "HieVcError",
]

from . import sandbox  # noqa: E402  (after the client it wraps)
