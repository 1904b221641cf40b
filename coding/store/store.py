"""Store: the only code that speaks SQL. One code path for SQLite and PostgreSQL."""

from coding.store.coding import CodingMixin
from coding.store.disputes import DisputesMixin
from coding.store.resolutions import ResolutionMixin
from coding.store.texts import TextsMixin


class Store(TextsMixin, CodingMixin, ResolutionMixin, DisputesMixin):
    """A study database. ``with Store.open("study.db") as store: ...``

    Reads return model objects or DataFrames; every write is one transaction that also
    appends its row to the ``events`` audit trail.
    """
