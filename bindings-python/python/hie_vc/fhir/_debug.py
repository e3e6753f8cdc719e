"""The ``repr`` of the FHIR classes: the text the Rust model's ``Debug`` prints for the same
JSON, with patient data (the elements the model marks ``redact``) left out.

``fhir_debug(type_name, json_text)`` has the signature of the native ``fhir_debug`` (which
wraps the core's ``hie_vc::fhir::schema::debug``) and writes the same text from the model's
definitions (``_model``), so the two can stand in for each other; ``tests/test_fhir_model.py``
compares them on every IG example. Where the texts
may still differ: the escaping of unusual Unicode in strings (Rust's ``is_printable`` and
Python's ``str.isprintable`` disagree on a few characters) and the size of a raw resource
that was not read from compact JSON.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from . import _model

__all__ = ["fhir_debug"]

# What Rust's `is_primitive_suffix` calls primitive: a `_name` companion of a choice member
# with one of these suffixes is an extension of the value, whatever the choice declares.
_PRIMITIVE_SUFFIXES = frozenset(
    "Base64Binary Boolean Canonical Code Date DateTime Decimal Id Instant Integer Markdown "
    "Oid PositiveInt String Time UnsignedInt Uri Url Uuid".split()
)

# The Rust tuple structs of the integer primitives (their derived Debug is `Name(n)`).
_INT_STRUCTS = {"integer": "Integer", "unsignedInt": "UnsignedInt", "positiveInt": "PositiveInt"}

_REDACTED = '"<redacted>"'


def fhir_debug(type_name: str, json_text: str) -> str:
    """The redacted debug text of a value of ``type_name`` (a schema name: ``Encounter``,
    ``EncounterParticipant``, ``Coding``) given as FHIR JSON text."""
    return _value(type_name, json.loads(json_text, parse_float=Decimal))


def _rust_str(s: str) -> str:
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c == "\0":
            out.append("\\0")
        elif not c.isprintable():
            out.append(f"\\u{{{ord(c):x}}}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _primitive(type_name: str, v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if type_name in _INT_STRUCTS:
        return f"{_INT_STRUCTS[type_name]}({v})"
    if isinstance(v, (int, Decimal, float)):
        return str(v)
    if isinstance(v, str):
        variants = _model._CODE_VARIANTS.get(type_name)
        if variants is not None:
            known = variants.get(v)
            return known if known is not None else f"Other({_rust_str(v)})"
        return _rust_str(v)
    return _rust_str(json.dumps(v))


def _value(type_name: str, v: Any) -> str:
    if type_name == "Resource":
        rt = v.get("resourceType") if isinstance(v, dict) else None
        resource = _model.RESOURCE_TYPES.get(rt) if isinstance(rt, str) else None
        if resource is None:
            rest = {k: x for k, x in v.items() if k != "resourceType"} if isinstance(v, dict) else {}
            text = _model.RawResource._wrap({"resourceType": rt, **rest}).to_json()
            return f"{rt}(<raw {len(text.encode('utf-8'))} bytes>)"
        return _struct(resource, v)
    cls = _model._CLASSES.get(type_name)
    if cls is not None and isinstance(v, dict):
        return _struct(cls, v)
    return _primitive(type_name, v)


def _is_primitive_type(type_name: str) -> bool:
    return type_name in _model._JSON_TYPES


def _struct(cls: Any, data: Dict[str, Any]) -> str:
    members: Tuple[Tuple[Any, ...], ...] = cls._members
    elements = {m[1]: m for m in members if m[0] == "element"}
    choices = [m for m in members if m[0] == "choice"]
    primitive_ext: List[str] = []
    unknown: List[str] = []
    chosen: Dict[str, Tuple[str, Any]] = {}
    is_resource = issubclass(cls, _model.Resource)
    for key, value in data.items():
        if (key == "resourceType" and is_resource) or key in elements:
            continue
        if key.startswith("_"):
            name = key[1:]
            e = elements.get(name)
            if e is not None and _is_primitive_type(e[2]):
                primitive_ext.append(name)
                continue
            if _choice_companion(choices, name):
                primitive_ext.append(name)
                continue
        found = _choice_member(choices, key)
        if found is not None:
            chosen.setdefault(found, (key[len(found):], value))
            continue
        unknown.append(key)

    fields: List[str] = []
    for m in members:
        if m[0] == "element":
            _, json_name, type_name, array, redact = m
            if json_name not in data:
                continue
            v = data[json_name]
            if array:
                # A lone value where R4 wants an array reads as one (as a lenient Rust read does).
                items = v if isinstance(v, list) else [v]
                if not items:
                    continue
                text = _REDACTED if redact else "[" + ", ".join(_value(type_name, x) for x in items) + "]"
            else:
                text = _REDACTED if redact else _value(type_name, v)
            fields.append(f"{json_name}: {text}")
    for m in choices:
        _, prefix, _open, redact, options = m
        if prefix not in chosen:
            continue
        suffix, v = chosen[prefix]
        if redact:
            fields.append(f"{prefix}: {_REDACTED}")
            continue
        option = next((o for o in options if o[0] == suffix), None)
        if option is None:
            inner = '"<raw>"'
        elif option[2]:
            inner = _REDACTED
        else:
            inner = _value(option[1], v)
        fields.append(f"{prefix}: {suffix}({inner})")
    if primitive_ext:
        fields.append("_primitive_ext: [" + ", ".join(_rust_str(n) for n in primitive_ext) + "]")
    if unknown:
        fields.append("_unknown: [" + ", ".join(_rust_str(n) for n in unknown) + "]")
    fhir_name: str = cls._fhir_name
    return f"{fhir_name} {{ {', '.join(fields)} }}" if fields else fhir_name


def _choice_companion(choices: List[Tuple[Any, ...]], name: str) -> bool:
    """Whether ``_name`` is the companion of a primitive choice member (Rust's rule)."""
    for m in choices:
        prefix, options = m[1], m[4]
        if not name.startswith(prefix):
            continue
        suffix = name[len(prefix):]
        option = next((o for o in options if o[0] == suffix), None)
        if option is not None:
            if _is_primitive_type(option[1]):
                return True
        elif suffix in _PRIMITIVE_SUFFIXES:
            return True
    return False


def _choice_member(choices: List[Tuple[Any, ...]], key: str) -> Optional[str]:
    """The prefix of the choice element ``key`` is a member of, if any."""
    for m in choices:
        prefix, open_, options = m[1], m[2], m[4]
        if not key.startswith(prefix):
            continue
        suffix = key[len(prefix):]
        if any(o[0] == suffix for o in options):
            return str(prefix)
        if open_ and suffix[:1].isascii() and suffix[:1].isupper() and suffix.isascii() and suffix.isalnum():
            return str(prefix)
    return None
