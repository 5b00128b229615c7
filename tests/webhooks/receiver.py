"""A real webhook receiver on 127.0.0.1 for the tests: answers from a script, keeps every request."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers each POST with the next status of `script` (then `default`), recording what came in."""

    def __init__(self) -> None:
        self.script: deque[int] = deque()
        self.default = 200
        self.extra_headers: dict[str, str] = {}
        self.requests: list[ReceivedRequest] = []
        self.received = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with receiver.received:
                    status = receiver.script.popleft() if receiver.script else receiver.default
                    receiver.requests.append(ReceivedRequest(self.path, dict(self.headers.items()), body))
                    receiver.received.notify_all()
                self.send_response(status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def answer(self, *statuses: int) -> None:
        """The status codes of the next requests, in order; `default` after that."""
        self.script.extend(statuses)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Blocks until `count` requests arrived (for the background-worker tests)."""
        with self.received:
            self.received.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
