"""The ``repr`` of the FHIR classes: the text the Rust model's ``Debug`` prints for the same
JSON (``hie_vc::fhir::schema::debug``), with patient data (the elements the model marks
``redact``) left out — one implementation, in the core, for every language."""

from __future__ import annotations

from .. import _native

__all__ = ["fhir_debug"]


def fhir_debug(type_name: str, json_text: str) -> str:
    """The Rust ``Debug`` text of ``json_text`` read as the schema type ``type_name``."""
    return _native.fhir_debug(type_name, json_text)
