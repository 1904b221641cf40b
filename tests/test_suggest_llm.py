"""The llm engine's plumbing, against a fake OpenAI-compatible server on 127.0.0.1.

These tests check the plumbing, not model quality: what is sent (the codebook in the system
prompt, one unit per user message), what is kept (a second run sends nothing), how answers are
checked (quotes not in the unit and unknown code ids dropped and counted, malformed JSON),
retries (429, timeouts), a server that is down, and the concurrency limit. The fake server's
"model" applies a code when one of its indicators is in the unit (tests/llm_server.py); no
real model is ever asked.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coding import service
from coding.cli import cli
from coding.errors import CodingError
from coding.service import suggest_llm
from coding.service.agreement import agreement_report
from coding.service.suggest_llm import LLMSettings
from coding.store import Store
from coding.suggest.llm_client import EndpointError
from tests.conftest import DATA, write_codings
from tests.llm_server import (
    FakeChat,
    Reply,
    codes_answer,
    completion,
    indicator_model,
    unit_text,
)

CALM_UNIT = "Parents learn to notice their own stress. Staff help them calm down and soothe"


@pytest.fixture
def chat() -> Iterator[FakeChat]:
    with FakeChat().running() as server:
        yield server


def settings(chat: FakeChat | str, **changes: Any) -> LLMSettings:
    url = chat if isinstance(chat, str) else chat.url
    return LLMSettings(**{"endpoint": url, "model": "fake", "retry_wait": 0.0, **changes})


def run(study: Path | str, chosen: LLMSettings) -> suggest_llm.LLMRun:
    with Store.open(study) as store:
        return suggest_llm.run_llm_suggestions(store, "tester", chosen)


def test_each_unit_is_one_chat_request_carrying_the_codebook(
    corpus_db: Path, chat: FakeChat
) -> None:
    run(corpus_db, settings(chat))
    with Store.open(corpus_db) as store:
        texts = sorted(s.text for s in store.segments())
    assert set(chat.paths) == {"/v1/chat/completions"}
    first = chat.requests[0]
    assert first["model"] == "fake"
    assert first["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    system = first["messages"][0]["content"]
    for part in (
        "The parent manages their own distress.",  # definition
        "Parent calms down",  # inclusion
        "Calming the infant only",  # exclusion
        "calm; soothe",  # indicators
        "She took a breath and calmed down.",  # typical example
        "Staff stayed calm",  # borderline example
        "The parent reads the infant's cues.",
    ):
        assert part in system
    assert sorted(unit_text(r) for r in chat.requests) == texts


def test_an_endpoint_ending_in_chat_completions_is_used_as_given(
    corpus_db: Path, chat: FakeChat
) -> None:
    run(corpus_db, settings(f"{chat.url}/api/chat/completions"))
    assert set(chat.paths) == {"/api/chat/completions"}


@pytest.mark.both_engines
def test_a_second_run_with_the_same_model_and_codebook_sends_nothing(
    corpus_db: Path | str, chat: FakeChat
) -> None:
    first = run(corpus_db, settings(chat))
    sent = len(chat.requests)
    second = run(corpus_db, settings(chat))
    assert (first.sent, first.from_cache) == (sent, 0)
    assert (len(chat.requests), second.sent, second.from_cache) == (sent, 0, sent)
    with Store.open(corpus_db) as store:
        runs = store.suggestion_runs()
        assert runs.iloc[-1]["model_version"] == runs.iloc[-2]["model_version"]
    assert second.suggestions == first.suggestions > 0


def test_another_model_or_codebook_is_asked_again(
    corpus_db: Path, chat: FakeChat, tmp_path: Path
) -> None:
    run(corpus_db, settings(chat))
    sent = len(chat.requests)
    run(corpus_db, settings(chat, model="other"))
    assert len(chat.requests) == 2 * sent
    changed = tmp_path / "codebook.yaml"
    text = (DATA / "codebook_small.yaml").read_text(encoding="utf-8")
    changed.write_text(text.replace("reads the infant's cues", "reads cues"), encoding="utf-8")
    with Store.open(corpus_db) as store:
        service.load_codebook(store, changed, "tester")
    run(corpus_db, settings(chat))
    assert len(chat.requests) == 3 * sent


def test_suggestions_carry_the_quote_as_document_offsets(corpus_db: Path, chat: FakeChat) -> None:
    result = run(corpus_db, settings(chat))
    with Store.open(corpus_db) as store:
        stored = store.suggestions_frame()
        texts = {d.id: d.text for d in store.documents()}
        annotations = store.annotations_frame()
    assert stored["engine"].unique().tolist() == ["llm"]
    assert result.model_version.startswith("llm:fake@")
    assert annotations.empty  # suggestions never become codes
    spans = [json.loads(e)["spans"] for e in stored["evidence"]]
    found = {(s["text"], texts["manual"][s["start"] : s["end"]]) for unit in spans for s in unit}
    assert found == {("calm", "calm"), ("cues", "cues")}


def _quoting(quote: str) -> Any:
    def reply(request: dict[str, Any], number: int) -> Reply:
        if unit_text(request).startswith(CALM_UNIT):
            return codes_answer([{"id": "calm", "confidence": 0.8, "evidence": quote}])
        return codes_answer([])

    return reply


def test_a_quote_not_in_the_unit_is_dropped_and_counted(corpus_db: Path, chat: FakeChat) -> None:
    chat.reply = _quoting("Parents panic and shout")
    result = run(corpus_db, settings(chat))
    with Store.open(corpus_db) as store:
        stored = store.suggestions_frame()
        params = json.loads(store.suggestion_runs().iloc[-1]["params"])
    assert (result.dropped_quotes, params["dropped_quotes"]) == (1, 1)
    evidence = json.loads(stored.iloc[0]["evidence"])
    assert (stored.iloc[0]["code_id"], evidence["spans"]) == ("calm", [])
    assert "quoted nothing" in evidence["reason"]


def test_a_quote_with_other_quotes_and_spaces_is_found(corpus_db: Path, chat: FakeChat) -> None:
    chat.reply = _quoting("\u201cStaff  help them\ncalm down.\u201d")
    result = run(corpus_db, settings(chat))
    with Store.open(corpus_db) as store:
        evidence = json.loads(store.suggestions_frame().iloc[0]["evidence"])
    assert result.dropped_quotes == 0
    assert [s["text"] for s in evidence["spans"]] == ["Staff help them calm down"]


def test_an_unknown_code_id_is_dropped_and_counted(corpus_db: Path, chat: FakeChat) -> None:
    def reply(request: dict[str, Any], number: int) -> Reply:
        text = unit_text(request)
        return codes_answer([{"id": "panic", "confidence": 1, "evidence": text[:5]}])

    chat.reply = reply
    result = run(corpus_db, settings(chat))
    assert (result.suggestions, result.unknown_codes) == (0, {"panic": 4})


def test_a_fenced_answer_with_text_around_it_is_read(corpus_db: Path, chat: FakeChat) -> None:
    def reply(request: dict[str, Any], number: int) -> Reply:
        inner = json.loads(indicator_model(request, number).body)["choices"][0]["message"]
        return completion(f"Here you are:\n```json\n{inner['content']}\n```\nHope it helps.")

    chat.reply = reply
    assert run(corpus_db, settings(chat)).suggestions == 2


def test_malformed_json_is_asked_again(corpus_db: Path, chat: FakeChat) -> None:
    asked: set[str] = set()

    def reply(request: dict[str, Any], number: int) -> Reply:
        text = unit_text(request)
        if text not in asked:
            asked.add(text)
            return completion('{"codes": [{"id": "calm", ')
        return indicator_model(request, number)

    chat.reply = reply
    result = run(corpus_db, settings(chat))
    assert (result.failed, result.suggestions, len(chat.requests)) == ({}, 2, 8)


def test_a_unit_answered_with_garbage_every_time_fails_and_is_reported(
    corpus_db: Path, chat: FakeChat
) -> None:
    def reply(request: dict[str, Any], number: int) -> Reply:
        if unit_text(request).startswith(CALM_UNIT):
            return Reply(body="<html>oops</html>")
        return indicator_model(request, number)

    chat.reply = reply
    result = run(corpus_db, settings(chat, retries=2))
    with Store.open(corpus_db) as store:
        calm_unit = next(s.id for s in store.segments() if s.text.startswith(CALM_UNIT))
        params = json.loads(store.suggestion_runs().iloc[-1]["params"])
    assert list(result.failed) == [calm_unit] == list(params["failed_units"])
    assert "3 attempts: not a chat completion" in result.failed[calm_unit]
    assert params["scored_documents"] == []  # coder 'nlp' is missing there, not absent
    chat.reply = indicator_model
    again = run(corpus_db, settings(chat))
    assert (again.sent, again.from_cache, again.failed) == (1, 3, {})


def test_429_then_success_is_retried(corpus_db: Path, chat: FakeChat) -> None:
    def reply(request: dict[str, Any], number: int) -> Reply:
        if number == 1:
            return Reply(429, '{"error": "busy"}', {"Retry-After": "0"})
        return indicator_model(request, number)

    chat.reply = reply
    result = run(corpus_db, settings(chat, concurrency=1))
    assert (result.failed, result.sent, len(chat.requests)) == ({}, 4, 5)


def test_a_server_without_json_mode_is_asked_without_it(corpus_db: Path, chat: FakeChat) -> None:
    def reply(request: dict[str, Any], number: int) -> Reply:
        if "response_format" in request:
            return Reply(400, '{"error": "response_format not supported"}')
        return indicator_model(request, number)

    chat.reply = reply
    result = run(corpus_db, settings(chat, concurrency=1, retries=0))
    assert (result.failed, result.suggestions, len(chat.requests)) == ({}, 2, 5)


def test_a_timed_out_request_is_retried(corpus_db: Path, chat: FakeChat) -> None:
    def reply(request: dict[str, Any], number: int) -> Reply:
        return Reply(hang=True) if number == 1 else indicator_model(request, number)

    chat.reply = reply
    result = run(corpus_db, settings(chat, concurrency=1, timeout=0.3))
    assert (result.failed, result.sent, len(chat.requests)) == ({}, 4, 5)


def test_a_unit_timing_out_every_time_fails(corpus_db: Path, chat: FakeChat) -> None:
    def reply(request: dict[str, Any], number: int) -> Reply:
        hang = unit_text(request).startswith(CALM_UNIT)
        return Reply(hang=True) if hang else indicator_model(request, number)

    chat.reply = reply
    result = run(corpus_db, settings(chat, timeout=0.2, retries=1))
    assert [why for why in result.failed.values()] == ["2 attempts: no answer within 0.2 s"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_server_that_is_down_is_a_clear_error_naming_the_endpoint(corpus_db: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(EndpointError, match=f"cannot reach {url}/v1/chat/completions"):
        run(corpus_db, settings(url, retries=1))
    with Store.open(corpus_db) as store:
        assert store.suggestion_runs().empty


def test_the_command_line_says_which_endpoint_is_down(corpus_db: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    args = ["suggest", "run", str(corpus_db), "--engine", "llm", "--endpoint", url]
    result = CliRunner().invoke(cli, [*args, "--model", "m", "--retries", "0"])
    assert result.exit_code == 1
    assert f"cannot reach {url}/v1/chat/completions" in result.output


def test_a_server_failing_every_unit_stores_nothing(corpus_db: Path, chat: FakeChat) -> None:
    chat.reply = lambda request, number: Reply(503, "overloaded")
    with pytest.raises(EndpointError, match="no unit was answered"):
        run(corpus_db, settings(chat, retries=1))
    with Store.open(corpus_db) as store:
        assert store.suggestion_runs().empty


def test_a_refused_request_stops_the_run_at_once(corpus_db: Path, chat: FakeChat) -> None:
    chat.reply = lambda request, number: Reply(404, '{"error": "model not found"}')
    with pytest.raises(EndpointError, match="HTTP 404"):
        run(corpus_db, settings(chat, concurrency=1))
    assert len(chat.requests) == 1


def test_no_more_requests_than_the_concurrency_limit_are_in_flight(
    corpus_db: Path, chat: FakeChat
) -> None:
    both_in, third = threading.Barrier(2, timeout=10), threading.Event()

    def reply(request: dict[str, Any], number: int) -> Reply:
        if number <= 2:
            both_in.wait()  # the first two requests are in flight together ...
            third.wait(1.0)  # ... and stay there while a third one could come in
        else:
            third.set()
        return indicator_model(request, number)

    chat.reply = reply
    run(corpus_db, settings(chat, concurrency=2))
    assert (chat.most_in_flight, len(chat.requests)) == (2, 4)


@pytest.mark.parametrize("endpoint", ["http://8.8.8.8:8080", "https://[2001:4860:4860::8888]/v1"])
def test_an_endpoint_outside_the_network_is_refused_unless_allowed(endpoint: str) -> None:
    with pytest.raises(CodingError, match="--allow-remote"):
        suggest_llm.endpoint_url(settings(endpoint))
    assert suggest_llm.endpoint_url(settings(endpoint, allow_remote=True)).startswith(endpoint)


def test_llm_runs_are_scored_as_coder_nlp(coded_db: Path, chat: FakeChat) -> None:
    run(coded_db, settings(chat))
    with Store.open(coded_db) as store:
        table = agreement_report(store, ["ben", "nlp"])
    assert set(table["code_id"]) >= {"calm", "cues"}


@pytest.fixture
def two_documents(coded_db: Path, tmp_path: Path) -> Path:
    """The coded study with a second manual, coded by both coders."""
    second = tmp_path / "second.md"
    second.write_text(
        "Parents stay calm at bedtime.\n\nThe nurse reads each cue.\n\nLunch is served.\n",
        encoding="utf-8",
    )
    with Store.open(coded_db) as store:
        service.import_documents(store, [second], "tester")
        units = [s.id for s in store.segments() if s.document_id == "second"]
        rows = [(units[0], c, "calm") for c in ("amira", "ben")] + [(units[1], "amira", "cues")]
        service.import_codings(store, write_codings(tmp_path / "c.csv", rows), "tester")
    return coded_db


def test_evaluate_scores_the_llm_like_any_engine(two_documents: Path, chat: FakeChat) -> None:
    with Store.open(two_documents) as store:
        result = suggest_llm.evaluate_llm(store, "tester", settings(chat), folds=2)
        before = len(chat.requests)
        again = suggest_llm.evaluate_llm(store, "tester", settings(chat), folds=2)
    assert result["engine"] == "llm" and result["folds"] == 2
    assert [c["code"] for c in result["codes"]] == ["calm", "cues"]
    assert all(c["n_scored"] == c["n"] > 0 for c in result["codes"])
    assert "baseline" in result and "human" in result
    assert result["macro"]["human_kappa"] is not None
    assert result["llm"]["sent"] == before > 0
    assert (len(chat.requests), again["llm"]["sent"]) == (before, 0)
    assert again["codes"] == result["codes"]


def test_evaluate_on_the_command_line_prints_the_tally(two_documents: Path, chat: FakeChat) -> None:
    args = ["suggest", "evaluate", str(two_documents), "--engine", "llm", "--folds", "2"]
    result = CliRunner().invoke(cli, [*args, "--endpoint", chat.url, "--model", "fake"])
    assert result.exit_code == 0, result.output
    assert "engine llm, 2 folds grouped by document" in result.output
    assert f"llm: {len(chat.requests)} units sent to {chat.url}/v1/chat/completions" in (
        result.output
    )
    assert "baseline_f1" in result.output


def test_the_command_line_run_says_where_the_texts_went(corpus_db: Path, chat: FakeChat) -> None:
    args = ["suggest", "run", str(corpus_db), "--engine", "llm", "--endpoint", chat.url]
    result = CliRunner().invoke(cli, [*args, "--model", "fake"])
    assert result.exit_code == 0, result.output
    assert f"sending 4 unit texts to {chat.url}/v1/chat/completions (model fake)" in result.output
    assert "2 suggestions over 4 units" in result.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "llm", "--model", "m"], "--engine llm needs --endpoint"),
        (["--engine", "rules", "--endpoint", "http://127.0.0.1:1"], "ignores --endpoint"),
        (["--model", "m"], "--engine auto ignores --model"),
    ],
)
def test_llm_options_need_the_llm_engine(corpus_db: Path, extra: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["suggest", "run", str(corpus_db), *extra])
    assert result.exit_code == 2
    assert message in result.output
