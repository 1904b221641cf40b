"""Who may do what: users with roles, hashed passwords, sign-in, and the role check on writes.

Roles: ``coder`` codes their assigned units; ``reviewer`` resolves disagreements, reads
agreement and exports; ``admin`` may do everything, including managing users. Every write
function in the service layer calls :func:`require_role` with the acting user's name, which
is looked up in the study again (the app's session is never trusted for the role).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache

import pandas as pd

from coding.errors import CodingError, PermissionDenied
from coding.model import NAME_RE
from coding.store import Store
from coding.store import users as user_store

ROLES = ("coder", "reviewer", "admin")
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32
MIN_PASSWORD = 8  # add_user(..., min_length=4) only for the demo study's published password


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str

    def can(self, role: str) -> bool:
        """True when this user holds ``role`` (an admin holds every role)."""
        return self.role in (role, "admin")


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
    if role == "coder" and name not in store.coders():
        store.add_coders([name], actor)
    return User(name, role)


def add_user_as(store: Store, admin: str, name: str, role: str, password: str) -> User:
    """:func:`add_user` on behalf of a signed-in admin."""
    require_role(store, admin, "admin")
    return add_user(store, name, role, password, admin)


def set_password(store: Store, actor: str, name: str, password: str) -> None:
    """Change a password: one's own, or anyone's as an admin."""
    if actor != name:
        require_role(store, actor, "admin")
    if len(password) < MIN_PASSWORD:
        raise CodingError(f"the password needs at least {MIN_PASSWORD} characters")
    user_store.set_password_hash(store, name, hash_password(password), actor)


def get_user(store: Store, name: str) -> User | None:
    row = user_store.get_user(store, name)
    return None if row is None else User(row.name, row.role)


def users(store: Store) -> pd.DataFrame:
    """name, role, created_at of every user (no password hashes)."""
    return user_store.users_frame(store)


@cache
def _dummy_hash() -> str:
    """A hash no password matches, checked for unknown users so that they take as long."""
    return hash_password(secrets.token_hex(16))


def sign_in(store: Store, name: str, password: str) -> User:
    """The user if the password matches; otherwise PermissionDenied (the same for both causes).

    An unknown name costs one scrypt hash too, so the time taken does not tell which names
    exist.
    """
    row = user_store.get_user(store, name.strip())
    stored = _dummy_hash() if row is None else row.password_hash
    if not verify_password(password, stored) or row is None:
        raise PermissionDenied("unknown user or wrong password")
    return User(row.name, row.role)


def identify(store: Store, name: str | None) -> User | None:
    """The study's user for a name given by a trusted source (reverse proxy header, OIDC)."""
    if not name:
        return None
    return get_user(store, name.strip())


def require_role(store: Store, user: str | None, role: str) -> User:
    """The acting user if they hold ``role`` in this study (admins hold all); else refuse."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    found = get_user(store, user) if user else None
    if found is None:
        raise PermissionDenied("sign in first: no such user in this study")
    if not found.can(role):
        raise PermissionDenied(f"{found.name} is a {found.role}; this needs the {role} role")
    return found
