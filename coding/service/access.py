"""Who may do what: users with roles, hashed passwords, sign-in, and the role check on writes.

Roles: ``coder`` codes their assigned units; ``reviewer`` resolves disagreements, reads
agreement and exports; ``admin`` may do everything, including managing users. Every write
function in the service layer calls :func:`require_role` with the acting user's name, which
is looked up in the study again (the app's session is never trusted for the role).

Sign-in lockout: failed sign-ins are rows of the study's audit trail, so every browser
session, tab and app process sees the same count. After :data:`LOCK_AFTER` failures for a
name within :data:`WINDOW` the name is locked for :data:`LOCK_FOR`, doubling with each further
lockout of that name within a day (up to :data:`LOCK_MAX`); a client address that fails
:data:`CLIENT_LOCK_AFTER` times within the window, over any names, is locked the same way.
A locked name is refused even with the right password. Unknown names count and lock like
known ones, so a lockout does not tell which names exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from coding.errors import CodingError, PermissionDenied
from coding.model import NAME_RE, Role, utcnow
from coding.store import Store
from coding.store import users as user_store
from coding.store.engine import display_target

if TYPE_CHECKING:
    import pandas as pd

ROLES = tuple(Role)
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32
MIN_PASSWORD = 8  # add_user(..., min_length=4) only for the demo study's published password
LOCK_AFTER = 5  # failures for one name within WINDOW
CLIENT_LOCK_AFTER = 20  # failures from one client address within WINDOW, over any names
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)  # the first lockout; each further one within a day doubles
LOCK_MAX = timedelta(hours=24)
MAX_NAME = 100  # a longer name typed at sign-in is cut to this in the audit trail


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role

    def can(self, role: Role) -> bool:
        """True when this user holds ``role`` (an admin holds every role)."""
        return self.role in (role, Role.ADMIN)


def hash_password(password: str) -> str:
    """A salted scrypt hash: ``scrypt$n$r$p$salt$hash`` (hex).

    >>> verify_password("s3cret", hash_password("s3cret"))
    True
    """
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a stored hash in constant time; False for any malformed hash.

    >>> verify_password("x", "not a hash")
    False
    """
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
        digest = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=n,
            r=r,
            p=p,
            dklen=len(expected),
            maxmem=256 * 1024 * 1024,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)


@dataclass(frozen=True, slots=True)
class Operator:
    """Whoever runs the command line on a study they can open. The study file (or the
    database credentials) is their authority, so they hold every role; their name is the
    audit trail's "who". The app never builds one: its users sign in (tests/test_layers.py)."""

    name: str


def add_user(
    store: Store,
    name: str,
    role: str,
    password: str,
    actor: str,
    *,
    min_length: int = MIN_PASSWORD,
) -> User:
    """Add a user with a role and password; a coder is also added to the study's coders.

    For the command line (whoever can open the study file is trusted); the app goes through
    :func:`add_user_as`, which checks that the acting user is an admin. ``min_length`` lowers
    the password's minimum length only when asked explicitly (the demo study's "demo").
    """
    problems = []
    if not NAME_RE.match(name) or name in ("nlp", "consensus"):
        problems.append(
            f"invalid user name {name!r} (letters, digits, '_', '-', '.', '@'; "
            "'nlp' and 'consensus' are reserved)"
        )
    if role not in ROLES:
        problems.append(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if len(password) < min_length:
        problems.append(f"the password needs at least {min_length} characters")
    if problems:
        raise CodingError("; ".join(problems))
    user_store.add_user(store, name, role, hash_password(password), actor)
    if role == Role.CODER and name not in store.coders():
        store.add_coders([name], actor)
    return User(name, Role(role))


def add_user_as(store: Store, admin: str, name: str, role: str, password: str) -> User:
    """:func:`add_user` on behalf of a signed-in admin."""
    require_role(store, admin, Role.ADMIN)
    return add_user(store, name, role, password, admin)


def set_password(store: Store, actor: str, name: str, password: str) -> None:
    """Change a password: one's own, or anyone's as an admin."""
    if actor != name:
        require_role(store, actor, Role.ADMIN)
    if len(password) < MIN_PASSWORD:
        raise CodingError(f"the password needs at least {MIN_PASSWORD} characters")
    user_store.set_password_hash(store, name, hash_password(password), actor)


def get_user(store: Store, name: str) -> User | None:
    row = user_store.get_user(store, name)
    return None if row is None else User(row.name, Role(row.role))


def users(store: Store, user: str | Operator) -> pd.DataFrame:
    """name, role, created_at of every user (no password hashes), for admins."""
    require_role(store, user, Role.ADMIN)
    return user_store.users_frame(store)


@cache
def _dummy_hash() -> str:
    """A hash no password matches, checked for unknown users so that they take as long."""
    return hash_password(secrets.token_hex(16))


def sign_in(
    store: Store,
    name: str,
    password: str,
    client: str | None = None,
) -> User:
    """The user if the password matches; otherwise PermissionDenied (the same for both causes).

    An unknown name costs one scrypt hash too, so the time taken does not tell which names
    exist. ``client`` is the address the attempt came from, when known. A locked name or
    address is refused before any password is checked (see the module's lockout rules); a
    failure is recorded in the audit trail and may lock the name or the address.
    """
    now = utcnow()
    name = name.strip()[:MAX_NAME]
    history = user_store.sign_in_events(store, name, client, now - LOCK_MAX)
    keys = [("name", name, LOCK_AFTER)]
    if client:
        keys.append(("client", client, CLIENT_LOCK_AFTER))
    for by, key, _limit in keys:
        locks = _lockouts(history, by, key)
        if locks and locks[-1].until and locks[-1].until > now:
            raise PermissionDenied(
                f"too many failed sign-ins; try again after {locks[-1].until:%Y-%m-%d %H:%M} UTC"
            )
    row = user_store.get_user(store, name)
    stored = _dummy_hash() if row is None else row.password_hash
    if not verify_password(password, stored) or row is None:
        user_store.record_sign_in_failure(store, name, client)
        for by, key, limit in keys:
            _lock_if_due(store, history, by, key, limit, now)
        raise PermissionDenied("unknown user or wrong password")
    return User(row.name, Role(row.role))


def _lockouts(
    history: list[user_store.SignInEvent], by: str, key: str
) -> list[user_store.SignInEvent]:
    return [e for e in history if e.action == user_store.LOCKED[by] and e.key == key]


def _lock_if_due(
    store: Store,
    history: list[user_store.SignInEvent],
    by: str,
    key: str,
    limit: int,
    now: datetime,
) -> None:
    """Lock a name or address that has now failed ``limit`` times within WINDOW.

    Failures count only since the key's last lockout began, so a lockout that has ended gives
    a fresh start rather than locking again at the next failure. Each lockout within a day
    doubles the length of the next one.
    """
    earlier = _lockouts(history, by, key)
    since = max([now - WINDOW, *(lock.at for lock in earlier)])
    failures = 1 + sum(  # this failure, and the earlier ones in the window
        1
        for e in history
        if e.action == user_store.SIGN_IN_FAILED
        and e.at >= since
        and (e.key == key if by == "name" else e.client == key)
    )
    if failures >= limit:
        length = min(LOCK_FOR * 2 ** len(earlier), LOCK_MAX)
        user_store.record_lockout(
            store, by, key, now + length, failures, int(length.total_seconds())
        )


def identify(store: Store, name: str | None) -> User | None:
    """The study's user for a name given by a trusted source (reverse proxy header, OIDC)."""
    if not name:
        return None
    return get_user(store, name.strip())


def require_role(store: Store, user: str | Operator | None, role: Role) -> User:
    """The acting user if they hold ``role`` in this study (admins hold all); else refuse.

    A signed-in user is named and looked up in the study again (the app's session is never
    trusted for the role); an :class:`Operator` holds every role.
    """
    role = Role(role)  # ValueError for a role that does not exist
    if isinstance(user, Operator):
        return User(user.name, Role.ADMIN)
    found = get_user(store, user) if user else None
    if found is None:
        raise PermissionDenied("sign in first: no such user in this study")
    if not found.can(role):
        raise PermissionDenied(f"{found.name} is a {found.role}; this needs the {role} role")
    return found


def shown_target(target: str) -> str:
    """A study's file name or database URL as it may be shown or logged (no password)."""
    return display_target(target)
