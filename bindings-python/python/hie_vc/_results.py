"""Result objects over the core's JSON documents (camelCase on the wire, snake_case here)."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Generic, List, Optional, TypeVar, overload

T = TypeVar("T")

__all__ = ["Document", "field", "fhir_field", "fhir_list", "warnings_field", "Warning_"]


class Document:
    """A result of the core: attributes over its JSON document; ``to_dict()`` gives the
    document itself (camelCase keys, FHIR resources as FHIR JSON)."""

    __slots__ = ("_data",)

    def __init__(self, data: Dict[str, Any]) -> None:
        self._data = data

    @classmethod
    def _from_json(cls: "type[D]", text: str) -> "D":
        return cls(json.loads(text))

    def to_dict(self) -> Dict[str, Any]:
        """The core's JSON document (a deep copy)."""
        return json.loads(json.dumps(self._data))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._data == self._data  # type: ignore[attr-defined]

    def __hash__(self) -> int:  # documents are mutable views: not hashable
        raise TypeError(f"unhashable type: '{type(self).__name__}'")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={v!r}" for k, v in self._data.items() if not isinstance(v, (dict, list))
        )
        return f"{type(self).__name__}({shown})"


D = TypeVar("D", bound=Document)


class _Field(Generic[T]):
    """A read-only attribute over one key of the document, converted on access."""

    def __init__(self, key: str, convert: Callable[[Any], T], doc: str = "") -> None:
        self.key = key
        self.convert = convert
        self.__doc__ = doc

    @overload
    def __get__(self, obj: None, owner: type) -> "_Field[T]": ...
    @overload
    def __get__(self, obj: Document, owner: type) -> T: ...
    def __get__(self, obj: Optional[Document], owner: type) -> "T | _Field[T]":
        if obj is None:
            return self
        return self.convert(obj._data.get(self.key))


def _same(v: Any) -> Any:
    return v


def field(key: str, doc: str = "") -> Any:
    """A plain value (str, int, bool, list of str ...)."""
    return _Field(key, _same, doc)


def fhir_field(key: str, doc: str = "") -> Any:
    """A FHIR resource (model object) or None."""

    def conv(v: Any) -> Any:
        if v is None:
            return None
        from .fhir import from_dict

        return from_dict(v)

    return _Field(key, conv, doc)


def fhir_list(key: str, doc: str = "") -> Any:
    """A list of FHIR resources (model objects)."""

    def conv(v: Any) -> Any:
        from .fhir import from_dict

        return [from_dict(x) for x in v or []]

    return _Field(key, conv, doc)


class Warning_(Document):
    """Something accepted while reading that is not clean R4 (lenient reads)."""

    __slots__ = ()
    kind: str = field("kind", "What kind of departure (``unknown_element``, ``unknown_code`` ...).")
    location: str = field("location", "Where, FHIRPath-like (``Appointment.slot``).")
    message: str = field("message", "What was accepted.")

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def warnings_field(key: str = "warnings") -> Any:
    """The read warnings of a result."""
    return _Field(key, lambda v: [Warning_(w) for w in v or []], "Read warnings (lenient reads).")
