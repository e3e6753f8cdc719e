"""Result objects over the core's JSON documents (camelCase on the wire, snake_case here)."""

from __future__ import annotations

import json
from typing import Any, Dict, Generic, List, Optional, TypeVar, overload

T = TypeVar("T")

__all__ = ["Document", "Field", "FhirField", "FhirList", "WarningsField", "Warning_"]


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
        copied: Dict[str, Any] = json.loads(json.dumps(self._data))
        return copied

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Document) and type(other) is type(self) and other._data == self._data

    def __hash__(self) -> int:  # documents are mutable views: not hashable
        raise TypeError(f"unhashable type: '{type(self).__name__}'")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={v!r}" for k, v in self._data.items() if not isinstance(v, (dict, list))
        )
        return f"{type(self).__name__}({shown})"


D = TypeVar("D", bound=Document)


class Field(Generic[T]):
    """A read-only attribute over one key of the document (``Field[int]("status", doc)``)."""

    def __init__(self, key: str, doc: str = "") -> None:
        self.key = key
        self.__doc__ = doc

    def convert(self, v: Any) -> T:
        """The attribute's value for the JSON value ``v``."""
        return v  # type: ignore[no-any-return]

    @overload
    def __get__(self, obj: None, owner: type) -> "Field[T]": ...
    @overload
    def __get__(self, obj: Document, owner: type) -> T: ...
    def __get__(self, obj: Optional[Document], owner: type) -> "T | Field[T]":
        if obj is None:
            return self
        return self.convert(obj._data.get(self.key))


class FhirField(Field[T]):
    """A FHIR resource (model object) or None."""

    def convert(self, v: Any) -> T:
        if v is None:
            return None  # type: ignore[return-value]
        from .fhir import from_dict

        return from_dict(v)  # type: ignore[return-value]


class FhirList(Field[T]):
    """A list of FHIR resources (model objects)."""

    def convert(self, v: Any) -> T:
        from .fhir import from_dict

        return [from_dict(x) for x in v or []]  # type: ignore[return-value]


class Warning_(Document):
    """Something accepted while reading that is not clean R4 (lenient reads)."""

    __slots__ = ()
    kind = Field[str]("kind", "What kind of departure (``unknown_element``, ``unknown_code`` ...).")
    location = Field[str]("location", "Where, FHIRPath-like (``Appointment.slot``).")
    message = Field[str]("message", "What was accepted.")

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class WarningsField(Field[List[Warning_]]):
    """The read warnings of a result."""

    def convert(self, v: Any) -> List[Warning_]:
        return [Warning_(w) for w in v or []]
