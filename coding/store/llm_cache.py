"""The answers of a language model kept in the study, by (model, prompt hash, unit text hash)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from coding.store import schema as t
from coding.store.base import timestamp
from coding.store.store import Store


def llm_answers(store: Store, model: str, prompt_hash: str) -> dict[str, str]:
    """Text hash -> answer content of every unit this model answered under this prompt."""
    a = t.llm_answers
    query = select(a.c.text_hash, a.c.content).where(
        a.c.model == model, a.c.prompt_hash == prompt_hash
    )
    frame = store.frame(query)
    return dict(zip(frame["text_hash"], frame["content"], strict=True))


def add_llm_answers(
    store: Store,
    actor: str,
    model: str,
    prompt_hash: str,
    endpoint: str,
    answers: Mapping[str, str],
) -> None:
    """Keep new answers (text hash -> content); an answer already kept stays as it was.

    One transaction, whose audit row says which endpoint answered how many units.
    """
    if not answers:
        return
    detail = {"endpoint": endpoint, "prompt_hash": prompt_hash, "answers": len(answers)}
    at = timestamp()
    rows = [
        {
            "model": model,
            "prompt_hash": prompt_hash,
            "text_hash": key,
            "content": content,
            "endpoint": endpoint,
            "created_at": at,
        }
        for key, content in answers.items()
    ]
    with store.transaction(actor, "llm_answers", model, detail) as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(t.llm_answers).on_conflict_do_nothing(), rows)
