"""What the supervised engine reads around a unit: its neighbours, heading and attributes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coding.model import Segment, SegmentKind
from coding.store import Store
from coding.store import attributes as attribute_store


def unit_attributes(store: Store, segments: Sequence[Segment]) -> list[dict[str, str]]:
    """Each unit's attributes by name: its document's programme and document attributes, then
    its own unit attributes (a unit's value wins over its document's of the same name)."""
    programme = {d.id: d.programme for d in store.documents()}
    documents = attribute_store.document_values(store)
    own: dict[str, dict[str, str]] = {}
    values = attribute_store.all_unit_values(store)
    for segment_id, name, value in zip(
        values["segment_id"], values["name"], values["value"], strict=True
    ):
        own.setdefault(str(segment_id), {})[str(name)] = str(value)
    found = []
    for s in segments:
        mine = {"programme": programme.get(s.document_id, "")}
        mine.update(documents.get(s.document_id, {}))
        mine.update(own.get(s.id, {}))
        found.append(mine)
    return found


def contexts(store: Store, segments: Sequence[Segment], window: int) -> list[Any]:
    """Each unit's context for the engine: the texts of its neighbours in the same document
    (``window`` on each side), its heading path (not for imported units, whose label is their
    own id) and its attributes (:func:`unit_attributes`)."""
    from coding.suggest.context import unit_contexts

    return unit_contexts(
        [s.text for s in segments],
        [f"{s.document_id}\x1f{s.kind}" for s in segments],
        [s.position for s in segments],
        ["" if s.kind == SegmentKind.IMPORTED else s.label for s in segments],
        unit_attributes(store, segments),
        window=window,
    )
