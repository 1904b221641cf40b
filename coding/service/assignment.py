"""Who codes what: give a coder the units of some documents, and the document ids to pick from."""

from __future__ import annotations

from collections.abc import Sequence

from coding.errors import CodingError
from coding.model import Role
from coding.service.access import Operator, require_role
from coding.service.study import pick_document
from coding.store import Store
from coding.store import overview as overview_store


def assign(
    store: Store,
    coder: str,
    actor: str,
    documents: Sequence[str] = (),
) -> int:
    """Give a coder every unit of the named documents (all documents when none are named).

    Units the coder already has keep their state; returns the number newly assigned.
    """
    if coder not in store.coders(kind="human"):
        raise CodingError(f"unknown coder {coder!r} (add with 'coding coders add')")
    every = store.documents()
    picked = [pick_document(ref, every) for ref in documents]
    problems = [p for p in picked if isinstance(p, str)]
    if problems:
        raise CodingError("; ".join(problems))
    wanted = [d.id for d in picked if not isinstance(d, str)] or [
        d.id for d in store.documents(latest_only=True)
    ]
    units = [s.id for doc_id in wanted for s in store.segments(document_id=doc_id)]
    return store.assign(units, coder, actor)


def assign_as(store: Store, admin: str, coder: str, documents: Sequence[str]) -> int:
    """Give a coder the units of some documents (all when none are named), as an admin."""
    actor = require_role(store, admin, Role.ADMIN).name
    return assign(store, coder, actor, list(documents))


def document_ids(store: Store, user: str | Operator) -> list[str]:
    """Every document id (all versions), for the reviewer's and admin's filters."""
    require_role(store, user, Role.REVIEWER)
    return [str(d) for d in overview_store.documents_overview(store)["id"]]
