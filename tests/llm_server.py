"""A fake OpenAI-compatible chat server on 127.0.0.1 for the llm engine's tests.

It checks the plumbing (requests, retries, caching, evidence checks), not any model: its
default "model" applies a code when one of the code's indicators is in the unit, quoting the
word as found. Each test scripts it with ``reply(request, number) -> Reply``.

Run it by hand to try the engine: ``python -m tests.llm_server --port 8080``.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG_LIMIT = 30.0  # seconds a hanging reply waits at most for the test to release it


@dataclass(frozen=True)
class Reply:
    """What the server answers: a status and a body, or ``hang`` (no answer until released)."""

    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


def completion(content: str) -> Reply:
    """A chat completion whose message content is ``content``."""
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
    }
    return Reply(body=json.dumps(body))


def codes_answer(codes: list[dict[str, Any]]) -> Reply:
    """A completion answering ``{"codes": codes}``."""
    return completion(json.dumps({"codes": codes}))


def unit_text(request: dict[str, Any]) -> str:
    """The unit of a request (its user message, less the header)."""
    return str(request["messages"][-1]["content"]).split("\n", 1)[1]


def indicator_model(request: dict[str, Any], number: int) -> Reply:
    """Apply each code of the system prompt one of whose indicators is in the unit."""
    system, text = str(request["messages"][0]["content"]), unit_text(request)
    codes = []
    for block in system.split("\n## ")[1:]:
        code_id = block.split(":", 1)[0]
        line = next((n for n in block.splitlines() if n.startswith("Indicators")), ": ")
        for word in filter(None, line.split(": ", 1)[1].split("; ")):
            found = re.search(rf"\b{re.escape(word)}\w*", text, re.IGNORECASE)
            if found:
                codes.append({"id": code_id, "confidence": 0.9, "evidence": found[0]})
                break
    return codes_answer(codes)


class FakeChat:
    """The server: ``url``, the ``requests`` it received (parsed JSON) and the most it ever
    had in flight at once. ``reply`` may be replaced between runs."""

    def __init__(
        self, reply: Callable[[dict[str, Any], int], Reply] = indicator_model, port: int = 0
    ) -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _answer(self, path: str, body: bytes) -> Reply:
        request = json.loads(body)
        with self.lock:
            self.requests.append(request)
            self.paths.append(path)
            number = len(self.requests)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return self.reply(request, number)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        chat = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                reply = chat._answer(self.path, self.rfile.read(length))
                if reply.hang:
                    chat.release.wait(HANG_LIMIT)
                data = reply.body.encode("utf-8")
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/json", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[FakeChat]:
        serve = functools.partial(self.server.serve_forever, poll_interval=0.05)
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    chat = FakeChat(port=parser.parse_args().port)
    print(f"fake chat server on {chat.url} (indicator model); Ctrl-C stops it", flush=True)
    with suppress(KeyboardInterrupt):
        chat.server.serve_forever()


if __name__ == "__main__":
    main()
