"""SQL for the people who sign in to the app (``users``), their failed sign-ins (rows of the
audit trail), and notes on codes (``code_notes``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, or_, select, update

from coding.errors import Conflict, NotFound
from coding.model import utcnow
from coding.store import schema as t
from coding.store.base import insert_row, timestamp
from coding.store.store import Store

if TYPE_CHECKING:
    import pandas as pd

SIGN_IN_FAILED = "sign_in_failed"  # subject: the name typed; detail: the client address
# A lockout's action says what is locked, so no typed name can stand for a client address.
LOCKED = {"name": "sign_in_locked", "client": "sign_in_locked_client"}
# The audit trail's "who" for sign-in events: nobody is signed in yet, and no user name can
# take this form (names start with a letter or digit).
SIGN_IN_ACTOR = "(sign-in)"


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


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user as stored: the role and the password hash (never shown)."""

    name: str
    role: str
    password_hash: str


def get_user(store: Store, name: str) -> UserRow | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(t.users).where(t.users.c.name == name)).first()
    return None if row is None else UserRow(row.name, row.role, row.password_hash)


def users_frame(store: Store) -> pd.DataFrame:
    """name, role, created_at (never the password hash)."""
    u = t.users
    return store.frame(select(u.c.name, u.c.role, u.c.created_at).order_by(u.c.name))


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
        return insert_row(
            conn,
            t.code_notes,
            code_id=code_id,
            codebook_version=codebook_version,
            segment_id=segment_id,
            author=author,
            note=note,
            at=utcnow().isoformat(),
        )


def code_notes_frame(store: Store, code_ids: list[str] | None = None) -> pd.DataFrame:
    """id, code_id, codebook_version, segment_id, author, note, at; newest first."""
    n = t.code_notes
    query = select(n).order_by(n.c.id.desc())
    if code_ids is not None:
        query = query.where(n.c.code_id.in_(code_ids))
    return store.frame(query)


# -- failed sign-ins: append-only rows of ``events``, counted by name and by client address ----
def client_detail(client: str) -> str:
    """The ``detail`` text of a failure from a known client address (matched exactly)."""
    return json.dumps({"client": client}, sort_keys=True)


def record_sign_in_failure(store: Store, name: str, client: str | None) -> None:
    """One failed sign-in for ``name`` (subject), with the client address when known."""
    detail = {"client": client} if client else {}
    with store.transaction(SIGN_IN_ACTOR, SIGN_IN_FAILED, name, detail):
        pass


def record_lockout(
    store: Store, by: str, key: str, until: datetime, failures: int, seconds: int
) -> None:
    """A lockout of a name or a client address (``by``: "name" or "client") until ``until``."""
    detail = {"until": timestamp(until), "failures": failures, "seconds": seconds}
    with store.transaction(SIGN_IN_ACTOR, LOCKED[by], key, detail):
        pass


@dataclass(frozen=True, slots=True)
class SignInEvent:
    """A failed sign-in or a lockout: ``key`` is the name typed, or the locked name or address."""

    at: datetime
    action: str
    key: str
    client: str | None  # the address a failure came from, when known
    until: datetime | None  # when a lockout ends


def sign_in_events(
    store: Store, name: str, client: str | None, since: datetime
) -> list[SignInEvent]:
    """Failures and lockouts since ``since`` that concern ``name`` or the ``client`` address,
    oldest first.

    One query over the index on ``events (action, at)`` (migration 6): it reads only the
    recent sign-in events, however long the audit trail.
    """
    e = t.events
    concerns = [
        (e.c.action == SIGN_IN_FAILED) & (e.c.subject == name),
        (e.c.action == LOCKED["name"]) & (e.c.subject == name),
    ]
    if client:
        concerns += [
            (e.c.action == SIGN_IN_FAILED) & (e.c.detail == client_detail(client)),
            (e.c.action == LOCKED["client"]) & (e.c.subject == client),
        ]
    query = (
        select(e.c.at, e.c.action, e.c.subject, e.c.detail)
        .where(
            e.c.action.in_([SIGN_IN_FAILED, *LOCKED.values()]),
            e.c.at >= timestamp(since),
            or_(*concerns),
        )
        .order_by(e.c.id)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    found = []
    for row in rows:
        detail = json.loads(row.detail)
        until = detail.get("until")
        found.append(
            SignInEvent(
                at=datetime.fromisoformat(row.at),
                action=row.action,
                key=row.subject,
                client=detail.get("client"),
                until=datetime.fromisoformat(until) if until else None,
            )
        )
    return found
