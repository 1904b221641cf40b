"""The study store (SQLAlchemy Core over SQLite or PostgreSQL)."""

from coding.store.store import Store

__all__ = ["Store"]
