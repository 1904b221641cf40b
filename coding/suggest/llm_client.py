"""A small client for OpenAI-compatible chat servers (llama.cpp server, Ollama, vLLM).

Standard library only: ``urllib`` with no proxy (the text goes straight to the host named),
threads for concurrency. Requests are retried with doubling waits on 429, 5xx, timeouts, broken
connections and answers that cannot be read; a refused connection on every attempt, or an
answer that says the request itself is wrong (401, 403, 404, ...), stops the whole run with an
:class:`EndpointError` naming the endpoint. A unit whose every attempt failed otherwise is
reported as failed, never silently dropped.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import urlsplit

from coding.errors import CodingError

API_KEY_VARIABLE = "CONCORD_LLM_API_KEY"  # sent as a bearer token when set (vLLM --api-key)
MAX_ANSWER_BYTES = 4 * 1024 * 1024
MAX_RETRY_AFTER = 60.0  # seconds: the longest Retry-After honoured
FAIL_FAST = 10  # units failed in a row, before any answer, that stop the run
RETRIED_STATUS = frozenset({408, 429})  # and every 5xx


@dataclass(frozen=True)
class LLMSettings:
    """Where and how to ask: the server, the model and the limits of the conversation."""

    endpoint: str
    model: str
    concurrency: int = 4
    timeout: float = 120.0  # seconds per request
    retries: int = 3  # attempts after the first
    retry_wait: float = 1.0  # seconds before the first retry, doubled for each next one
    allow_remote: bool = False

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise CodingError("the llm engine needs a model name (--model)")
        if self.concurrency < 1 or self.retries < 0 or self.timeout <= 0 or self.retry_wait < 0:
            raise CodingError("concurrency >= 1, retries >= 0, timeout > 0 and retry wait >= 0")


class EndpointError(CodingError):
    """The server cannot be used at all: unreachable, refusing the request, or never readable."""


class UnitFailed(Exception):
    """Every attempt for one unit failed; the message says how the last one did."""


class _Retry(Exception):
    """One attempt failed in a way worth trying again; ``wait`` overrides the backoff. A
    ``free`` one (the server refused JSON mode, now off) is not counted as an attempt."""

    def __init__(
        self, reason: str, wait: float | None = None, refused: bool = False, free: bool = False
    ) -> None:
        super().__init__(reason)
        self.wait = wait
        self.refused = refused
        self.free = free


def chat_url(endpoint: str) -> str:
    """The chat completions URL of an endpoint: as given if it ends in /chat/completions.

    >>> chat_url("http://127.0.0.1:8080")
    'http://127.0.0.1:8080/v1/chat/completions'
    >>> chat_url("http://gpu:11434/v1/"), chat_url("http://h/api/chat/completions")
    ('http://gpu:11434/v1/chat/completions', 'http://h/api/chat/completions')
    """
    url = endpoint.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CodingError(f"--endpoint {endpoint!r}: give an http:// or https:// URL with a host")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def shown_url(url: str) -> str:
    """The URL without user name, password or query, for messages and the audit trail.

    >>> shown_url("http://me:secret@10.0.0.5:8000/v1/chat/completions?key=1")
    'http://10.0.0.5:8000/v1/chat/completions'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _in_network(address: str) -> bool:
    """True for an address no one outside can route to: loopback, private, link-local,
    shared (carrier-grade NAT, VPN meshes) and the like."""
    return not ipaddress.ip_address(address.split("%")[0]).is_global


def check_local(url: str, allow_remote: bool) -> list[str]:
    """The addresses the endpoint's host resolves to; CodingError unless none of them is a
    global internet address (loopback, private, link-local and shared ones are the team's own
    network) or ``allow_remote`` is set.

    >>> check_local("http://127.0.0.1:8080/v1/chat/completions", False)
    ['127.0.0.1']
    """
    host = urlsplit(url).hostname or ""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as err:
        raise EndpointError(f"{shown_url(url)}: cannot resolve host {host!r} ({err})") from err
    addresses = sorted({str(info[4][0]) for info in found})
    public = [a for a in addresses if not _in_network(a)]
    if public and not allow_remote:
        raise CodingError(
            f"{shown_url(url)}: {host} resolves to {', '.join(public)}, outside the local and "
            "private networks; unit texts would leave your network. Pass --allow-remote to "
            "send them there anyway."
        )
    return addresses


def _read_body(response: http.client.HTTPResponse | urllib.error.HTTPError) -> str:
    data = response.read(MAX_ANSWER_BYTES + 1)
    return data[:MAX_ANSWER_BYTES].decode("utf-8", errors="replace")


def _retry_after(err: urllib.error.HTTPError) -> float | None:
    value = err.headers.get("Retry-After") if err.headers else None
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value))) if value else None
    except ValueError:
        return None


def _content(body: str) -> str:
    """The message content of a chat completion; _Retry when the body is not one."""
    try:
        data = json.loads(body)
        content = data["choices"][0]["message"]["content"]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError) as err:
        raise _Retry(f"not a chat completion: {body.strip()[:120]!r}") from err
    if not isinstance(content, str):
        raise _Retry("the answer has no text content")
    return content


class ChatClient:
    """Asks one model one question at a time, with the same system prompt; thread-safe."""

    def __init__(self, settings: LLMSettings, system: str) -> None:
        self.settings = settings
        self.url = chat_url(settings.endpoint)
        self.system = system
        self.json_mode = True  # response_format json_object, until the server refuses it
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.api_key = os.environ.get(API_KEY_VARIABLE, "")

    def _payload(self, user: str) -> bytes:
        payload: dict[str, object] = {
            "model": self.settings.model,
            "messages": [
                {"role": "system", "content": self.system},
                {"role": "user", "content": user},
            ],
            "temperature": 0,
        }
        if self.json_mode:
            payload["response_format"] = {"type": "json_object"}
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def _post(self, user: str) -> str:
        """One request; the message content. _Retry or EndpointError when it fails."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        json_mode = self.json_mode
        request = urllib.request.Request(self.url, self._payload(user), headers, method="POST")
        try:
            with self.opener.open(request, timeout=self.settings.timeout) as response:
                return _content(_read_body(response))
        except urllib.error.HTTPError as err:
            body = _read_body(err).strip()[:200]
            if err.code in RETRIED_STATUS or err.code >= 500:
                raise _Retry(f"HTTP {err.code}: {body!r}", _retry_after(err)) from err
            if err.code in (400, 422) and json_mode:
                self.json_mode = False  # a server without JSON mode: ask without it
                raise _Retry(f"HTTP {err.code} with JSON mode: {body!r}", free=True) from err
            raise EndpointError(
                f"{shown_url(self.url)} refused the request: HTTP {err.code} {body!r} "
                f"(is the model {self.settings.model!r} served there?)"
            ) from err
        except TimeoutError as err:
            raise _Retry(f"no answer within {self.settings.timeout:g} s") from err
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):
                raise _Retry(f"no answer within {self.settings.timeout:g} s") from err
            raise _Retry(f"cannot connect: {err.reason}", refused=True) from err
        except (http.client.HTTPException, ConnectionError) as err:
            raise _Retry(f"connection broken: {err!r}") from err

    def ask(self, user: str, check: Callable[[str], object]) -> str:
        """The content of an answer that ``check`` accepts (it raises ValueError otherwise).

        UnitFailed after the retries; EndpointError when the server cannot be used at all.
        """
        reasons: list[_Retry] = []
        attempts = 0
        while attempts <= self.settings.retries:
            if reasons and not reasons[-1].free:
                pause = reasons[-1].wait
                backoff = self.settings.retry_wait * 2 ** (attempts - 1)
                time.sleep(backoff if pause is None else pause)
            try:
                content = self._post(user)
                check(content)
                return content
            except _Retry as err:
                reasons.append(err)
            except ValueError as err:
                reasons.append(_Retry(f"unreadable answer: {err}"))
            attempts += 0 if reasons[-1].free else 1
        if all(r.refused for r in reasons):
            raise EndpointError(f"cannot reach {shown_url(self.url)}: {reasons[-1]}")
        raise UnitFailed(f"{attempts} attempts: {reasons[-1]}")


Answered = Callable[[str, str], None]  # key, content
Failed = Callable[[str, str], None]  # key, reason


def ask_all(
    client: ChatClient,
    questions: Sequence[tuple[str, str]],
    check: Callable[[str], object],
    on_answer: Answered,
    on_failed: Failed,
) -> None:
    """Ask every (key, user message), at most ``concurrency`` at a time.

    ``on_answer`` and ``on_failed`` are called on the calling thread as answers come in (so
    they may write to a study). An EndpointError, or FAIL_FAST failures before any answer,
    cancels the questions not yet sent and is raised once those in flight are done.
    """
    stop = threading.Event()
    answered = failed = 0

    def one(user: str) -> str:
        if stop.is_set():
            raise UnitFailed("not sent: the run stopped")
        try:
            return client.ask(user, check)
        except EndpointError:
            stop.set()  # before this worker takes the next question
            raise

    with ThreadPoolExecutor(max_workers=client.settings.concurrency) as pool:
        pending: dict[Future[str], str] = {pool.submit(one, user): key for key, user in questions}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    key = pending.pop(future)
                    try:
                        on_answer(key, future.result())
                        answered += 1
                    except UnitFailed as err:
                        on_failed(key, str(err))
                        failed += 1
                if not answered and failed >= FAIL_FAST:
                    raise EndpointError(
                        f"{shown_url(client.url)}: the first {failed} units all failed, the "
                        f"last with {_last_reason(done)}; stopped"
                    )
        finally:
            stop.set()
            for future in pending:
                future.cancel()


def _last_reason(done: set[Future[str]]) -> str:
    for future in done:
        err = future.exception()
        if err is not None:
            return str(err)
    return "an unknown error"
