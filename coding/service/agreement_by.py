"""Agreement for each value of an attribute: the per-code report on each value's units.

The study is read once (:class:`AgreementData`); each value's table is the ordinary
:func:`agreement_report` over that value's units alone (a document attribute gives every unit
of its documents its value), with the same coders in every table.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from coding.errors import CodingError
from coding.model import Role
from coding.service.access import Operator, require_role
from coding.service.agreement import AgreementData, agreement_report
from coding.service.attributes import find_attribute, sort_key, study_attributes, unit_values
from coding.store import Store

BUILT_IN = ("code", "document", "code-document")  # what ``--by`` means without an attribute


def agreement_by_attribute(
    store: Store | AgreementData,
    user: str | Operator,
    name: str,
    coders: Sequence[str] | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    include_nlp: bool = False,
    include_consensus: bool = False,
    level: int | None = None,
) -> pd.DataFrame:
    """Per-code agreement for each value of attribute ``name`` (reviewers and admins): one
    table per value, stacked, the value in a first column named after the attribute. Units
    without a value take no part; a value whose units give no table (say, one coder) has one
    row whose note says why. ``store`` may be the study's :class:`AgreementData`; parent
    codes roll up, and ``level`` keeps one level, as in :func:`agreement_report`."""
    data = store if isinstance(store, AgreementData) else AgreementData.read(store)
    require_role(data.store, user, Role.REVIEWER)
    try:
        _scope, kind = find_attribute(data.store, name)
    except CodingError as err:
        known = ", ".join(a.name for a in study_attributes(data.store)) or "none yet"
        raise CodingError(
            f"cannot group agreement by {name!r}: give {', '.join(BUILT_IN)} or an attribute "
            f"(the study has: {known})"
        ) from err
    column = name.strip().lower()
    values = unit_values(data.store, column)
    if values.empty:
        raise CodingError(f"no unit has a value of attribute {column!r}")
    wanted = list(coders) if coders else data.default_coders()
    if include_nlp:
        data.nlp()  # read once, for every value's table
    groups = values.groupby("value")["segment_id"]
    tables = []
    for value in sorted(groups.groups, key=lambda v: sort_key(kind, str(v))):
        part = data.subset(list(groups.get_group(value)))
        try:
            table = agreement_report(
                part, wanted, "code", bootstrap, seed, include_nlp, include_consensus, level
            )
        except CodingError as err:
            table = pd.DataFrame({"scope": ["overall"], "code_id": ["*"], "note": [str(err)]})
        if column in table.columns:
            raise CodingError(f"attribute {column!r} has the name of a column of the report")
        table.insert(0, column, str(value))
        tables.append(table)
    return pd.concat(tables, ignore_index=True)
