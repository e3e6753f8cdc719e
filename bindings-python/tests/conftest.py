"""Shared fixtures: a sandbox per test module, the IG's published examples."""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any, Dict, Iterator

import pytest

import hie_vc
from hie_vc.sandbox import Sandbox

ROOT = pathlib.Path(__file__).resolve().parents[2]


def spec_dir() -> pathlib.Path:
    """The IG's published examples (``HIEVC_SPEC_DIR`` overrides ``../shared/spec``)."""
    env = os.environ.get("HIEVC_SPEC_DIR")
    return pathlib.Path(env) if env else ROOT.parent / "shared" / "spec"


def example(name: str) -> Dict[str, Any]:
    """One published IG example as a dict."""
    data: Dict[str, Any] = json.loads((spec_dir() / "mycore-ig" / "examples" / name).read_text())
    return data


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(check_references=False) as sb:
        yield sb


@pytest.fixture()
def appointment() -> hie_vc.fhir.Appointment:
    return hie_vc.mycore.vci_appointment(
        id="py-appt-1",
        specialty="86",
        patient={"id": "py-pat-1", "display": "Siti"},
        start="2023-07-10T21:00:00+08:00",
        end="2023-07-10T22:00:00+08:00",
    )
