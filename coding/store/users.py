"""SQL for the people who sign in to the app (``users``) and notes on codes (``code_notes``)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import insert, select, update

from coding.errors import Conflict, NotFound
from coding.model import utcnow
from coding.store import schema as t
from coding.store.store import Store


@dataclass(frozen=True, slots=True)
class UserRow:
    name: str
    role: str
    password_hash: str


def add_user(store: Store, name: str, role: str, password_hash: str, actor: str) -> None:
    """Insert one user; a name already taken is a Conflict."""
    if get_user(store, name) is not None:
        raise Conflict(f"user {name!r} already exists")
    with store.transaction(actor, "add_user", name, {"role": role}) as conn:
        conn.execute(
            insert(t.users).values(
                name=name, role=role, password_hash=password_hash, created_at=utcnow().isoformat()
            )
        )


def set_password_hash(store: Store, name: str, password_hash: str, actor: str) -> None:
    """Replace a user's password hash (the audit row records that it changed, not the hash)."""
    if get_user(store, name) is None:
        raise NotFound(f"no user {name!r}")
    with store.transaction(actor, "set_password", name) as conn:
        conn.execute(
            update(t.users).where(t.users.c.name == name).values(password_hash=password_hash)
        )


def get_user(store: Store, name: str) -> UserRow | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(t.users).where(t.users.c.name == name)).first()
    return None if row is None else UserRow(row.name, row.role, row.password_hash)


def users_frame(store: Store) -> pd.DataFrame:
    """name, role, created_at (never the password hash)."""
    u = t.users
    return store._frame(select(u.c.name, u.c.role, u.c.created_at).order_by(u.c.name))


def add_code_note(
    store: Store,
    code_id: str,
    codebook_version: int,
    segment_id: str | None,
    author: str,
    note: str,
) -> int:
    """Record a note on a code (for example an ambiguous definition met during review)."""
    detail = {"codebook_version": codebook_version, "segment_id": segment_id}
    with store.transaction(author, "code_note", code_id, detail) as conn:
        new_id = conn.execute(
            insert(t.code_notes)
            .values(
                code_id=code_id,
                codebook_version=codebook_version,
                segment_id=segment_id,
                author=author,
                note=note,
                at=utcnow().isoformat(),
            )
            .returning(t.code_notes.c.id)
        ).scalar_one()
    return int(new_id)


def code_notes_frame(store: Store, code_ids: list[str] | None = None) -> pd.DataFrame:
    """id, code_id, codebook_version, segment_id, author, note, at; newest first."""
    n = t.code_notes
    query = select(n).order_by(n.c.id.desc())
    if code_ids is not None:
        query = query.where(n.c.code_id.in_(code_ids))
    return store._frame(query)
