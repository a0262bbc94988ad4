"""A recording local HTTP server, the common base of the X, YouTube and Telegram fakes.

Each fake subclasses ``FakeServer`` and implements ``handle(request) -> Response``. The base
records every request (method, path, query, headers, JSON or form fields, file part sizes and
the body length) so tests can count calls and inspect what the adapter sent. Large bodies are
consumed in blocks and only hashed, so a 100 MB upload does not sit in the test's memory either.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

STREAM_TYPES = ("application/octet-stream", "video/", "image/")


class _QuietHandler(WSGIRequestHandler):
    """No access log: request lines carry secrets (Telegram's token) into test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    body_len: int = 0
    body_sha256: str = ""


class FakeServer:
    """Start with ``start()`` (port 0 picks a free port), stop with ``stop()``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.RLock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""
        from tests.fakes.faults import FaultPlan

        #: Transport faults aimed at one call (``tests/fakes/faults.py``).
        self.faults = FaultPlan()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> FakeServer:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- recording ----------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        rec = Recorded(request.method, request.path, dict(request.args.items()),
                       {k.lower(): v for k, v in request.headers.items()})
        ctype = request.mimetype or ""
        if ctype == "application/json":
            raw = request.get_data()
            rec.body_len = len(raw)
            rec.json = json.loads(raw or b"null")
        elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            rec.form = dict(request.form.items())
            for name, storage in request.files.items():
                rec.files[name] = part_size(storage)
        else:
            digest = hashlib.sha256()
            sink = self.sink(request)
            for block in _blocks(request):
                digest.update(block)
                rec.body_len += len(block)
                if sink is not None:
                    sink.write(block)
            if sink is not None:
                sink.close()
            rec.body_sha256 = digest.hexdigest()
        with self.lock:
            self.requests.append(rec)
        fault = self.faults.take(rec.method, rec.path)
        if self.faults.before(fault):
            return self.server_error()(environ, start_response)
        response = self.faults.after(fault, self.handle(request, rec), self.server_error)
        return response(environ, start_response)

    def server_error(self) -> Response:
        """This platform's server-error answer (for ``faults``); fakes override it."""
        return json_response({"error": "Service Unavailable"}, 503)

    def sink(self, request: Request) -> BinaryIO | None:
        """Where a raw (non-form) body should be written block by block; None: nowhere."""
        return None

    def handle(self, request: Request, rec: Recorded) -> Response:  # pragma: no cover
        raise NotImplementedError

    def calls(self, path_part: str = "", method: str | None = None) -> list[Recorded]:
        """Recorded requests whose path contains ``path_part`` (and with ``method``)."""
        with self.lock:
            return [r for r in self.requests
                    if path_part in r.path and (method is None or r.method == method)]

    def reset_calls(self) -> None:
        with self.lock:
            self.requests.clear()


def part_size(storage: Any, block: int = 64 * 1024) -> int:
    """The size of an uploaded file part, read in blocks (werkzeug spools big parts to disk;
    reading one whole would put a 100 MB upload in the test's memory)."""
    size = 0
    for chunk in iter(lambda: storage.read(block), b""):
        size += len(chunk)
    return size


def _blocks(request: Request, size: int = 64 * 1024) -> Iterator[bytes]:
    stream = request.stream
    while True:
        block = stream.read(size)
        if not block:
            return
        yield block


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    mimetype="application/json")


def broken_response() -> Response:
    """Headers promise a body the server never sends: the client sees a dropped connection."""

    def body() -> Iterator[bytes]:
        yield b'{"partial": '
        raise ConnectionAbortedError("fake: connection dropped on purpose")

    return Response(body(), status=200, headers={"Content-Length": "1000"},
                    mimetype="application/json")


#: What a reverse proxy or load balancer in front of a platform prints for a status.
PROXY_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


@dataclass(frozen=True)
class ProxyFailure:
    """A bare HTTP status from something in front of the platform: no JSON envelope, only an
    HTML page (``kind="html"``, nginx's) or a line of plain text (``kind="text"``), and a
    ``Retry-After`` header when ``retry_after`` is given. ``after_accept``: the platform did
    the work first (the post exists), then the proxy answered with the status."""

    status: int
    retry_after: str | None = None
    kind: str = "html"
    after_accept: bool = False

    def response(self) -> Response:
        reason = PROXY_REASONS.get(self.status, "Error")
        headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
        if self.kind == "text":
            return Response(f"{self.status} {reason}\n", status=self.status, headers=headers,
                            mimetype="text/plain")
        page = (f"<html>\r\n<head><title>{self.status} {reason}</title></head>\r\n<body>\r\n"
                f"<center><h1>{self.status} {reason}</h1></center>\r\n<hr><center>nginx</center>"
                "\r\n</body>\r\n</html>\r\n")
        return Response(page, status=self.status, headers=headers, mimetype="text/html")


def proxy_failure(mode: str | None) -> ProxyFailure | None:
    """Parse a fake's failure mode naming a bare proxy status, or None for any other mode.

    ``proxy-503`` (an HTML page), ``proxy-text-429`` (plain text), ``proxy-429-120``
    (``Retry-After: 120``), ``accept-proxy-502`` (the platform acted, then the proxy said 502).
    """
    if not mode:
        return None
    parts = mode.split("-")
    after_accept = parts[0] == "accept"
    if after_accept:
        parts = parts[1:]
    if not parts or parts[0] != "proxy":
        return None
    parts = parts[1:]
    kind = "html"
    if parts and parts[0] in ("html", "text"):
        kind, parts = parts[0], parts[1:]
    if not parts or not parts[0].isdigit():
        raise ValueError(f"bad proxy mode {mode!r}")
    retry_after = "-".join(parts[1:]) or None
    return ProxyFailure(int(parts[0]), retry_after, kind, after_accept)
