"""Reading lists item by item: one item that cannot be understood must not sink its page.

Novita's list endpoints return arrays of objects whose exact shape the public sources disagree
on. :func:`split_items` validates each element on its own; the ones that fail are returned as
:class:`SkippedItem` records (id or index and the failing fields, never the values, which may be
secrets) so the caller can log and count them, and so a listing that skipped an item is known to
be incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

_ID_KEYS = ("id", "Id", "instanceId")


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """A list element that was not understood: its position, its id if it had one, and why."""

    index: int
    item_id: str | None
    problem: str


def _item_id(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    for key in _ID_KEYS:
        value = item.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def describe_validation_error(exc: ValidationError) -> str:
    """``field.path: message; ...`` without the offending values."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or '<item>'}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)
    )


def split_items(model: type[M], raw: Any) -> tuple[list[M], list[SkippedItem]]:
    """Validate each element of ``raw`` (a list, or ``None`` for empty) as ``model``.

    Returns the understood items in order and a record of each skipped one. A ``raw`` that is
    not a list at all is returned unchanged for pydantic to reject as a whole.
    """
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        raise TypeError("not a list")
    items: list[M] = []
    skipped: list[SkippedItem] = []
    for index, element in enumerate(raw):
        try:
            items.append(model.model_validate(element))
        except ValidationError as exc:
            skipped.append(SkippedItem(index, _item_id(element), describe_validation_error(exc)))
    return items, skipped


def lenient_list(data: Any, key: str, model: type[M]) -> Any:
    """For a ``mode="before"`` model validator: replace ``data[key]`` by its understood items
    and put the skipped ones under ``"skipped"``. Anything unexpected is left for pydantic."""
    if not isinstance(data, dict):
        return data
    try:
        items, skipped = split_items(model, data.get(key))
    except TypeError:
        return data
    return {**data, key: items, "skipped": skipped}
