"""A local HTTP receiver for webhook tests (127.0.0.1, a free port): it records each request
(headers and exact body) and answers from a queue of statuses (default 204); ``delay`` holds
the answer to make the sender's read time out."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    hits: list[Hit] = field(default_factory=list)
    #: statuses to answer, in order (then 204); a (status, headers) pair adds headers
    answers: list[int | tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0

    def start(self) -> Receiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                outer.hits.append(Hit(self.path, {k: v for k, v in self.headers.items()}, body))
                if outer.delay:
                    time.sleep(outer.delay)
                answer = outer.answers.pop(0) if outer.answers else 204
                status, extra = answer if isinstance(answer, tuple) else (answer, {})
                try:
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/warta-hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
