"""A loopback HTTP server that misbehaves on purpose, and the fixtures it serves.

``with Hostile(behaviour) as server:`` serves ``/robots.txt`` (allow all) and answers every other
request with ``behaviour(handler, server)``. The server records each request (path and time) and
counts the body bytes it wrote, so tests can assert "never contacted", "retried after a pause" or
"stopped streaming". ``python -m tests.support_hostile`` rewrites tests/fixtures/hostile/.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import brotli

from tests.support_http import FIXTURES, ROBOTS, Reply, fixture_reply

HOSTILE = FIXTURES / "hostile"
BOMB_SIZE = 1 << 30  # each bomb inflates to 1 GiB of zeros
CHUNK = 64 * 1024

Behaviour = Callable[["Handler", "Hostile"], None]


@dataclass(frozen=True)
class Seen:
    path: str
    at: float  # time.monotonic()


class Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        hostile = self.server.hostile
        hostile.record(self.path)
        if self.path == "/robots.txt":
            send(self, Reply(ROBOTS, headers={"Content-Type": "text/plain"}))
        else:
            hostile.behaviour(self, hostile)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hostile: Hostile


class Hostile:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.release = threading.Event()  # set on exit: stalled and streaming handlers return
        self.bytes_sent = 0
        self._seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.hostile = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Hostile:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/"

    @property
    def allowed(self) -> list[str]:
        """The allow-list a crawl of this server needs (what the lead passes from config)."""
        return [f"127.0.0.1:{self.port}"]

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def api_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.path != "/robots.txt"]

    def record(self, path: str) -> None:
        with self._lock:
            self._seen.append(Seen(path, time.monotonic()))

    def count(self, sent: int) -> None:
        with self._lock:
            self.bytes_sent += sent


def send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    handler.send_response(reply.status)
    for key, value in reply.headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(reply.body)))
    handler.end_headers()
    handler.wfile.write(reply.body)


def serving(reply: Reply) -> Behaviour:
    return lambda handler, hostile: send(handler, reply)


def redirect(location: str, status: int = 302) -> Behaviour:
    return serving(Reply(b"", status, {"Location": location}))


def endless(handler: Handler, hostile: Hostile) -> None:
    """200, no Content-Length, then JSON-looking bytes until the client hangs up."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    chunk = b'{"items": [' + b" " * (CHUNK - 11)
    try:
        while not hostile.release.is_set():
            handler.wfile.write(chunk)
            hostile.count(len(chunk))
    except OSError:
        return


def stall_after_headers(handler: Handler, hostile: Hostile) -> None:
    """200 and a Content-Length, a few bytes of body, then silence."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    handler.wfile.write(b'{"items": [')
    handler.wfile.flush()
    hostile.release.wait(120)


def flaky(failures: int, then: Reply) -> Behaviour:
    """503 with Retry-After for the first ``failures`` API requests, then ``then``."""

    def behaviour(handler: Handler, hostile: Hostile) -> None:
        if len(hostile.api_requests()) <= failures:
            send(handler, Reply(b"busy", 503, {"Retry-After": "1"}))
        else:
            send(handler, then)

    return behaviour


def hostile_reply(name: str) -> Reply:
    return fixture_reply("hostile", name)


# --- fixtures: python -m tests.support_hostile ----------------------------------------------------


def zeros(size: int) -> Iterator[bytes]:
    for _ in range(size // (1 << 20)):
        yield bytes(1 << 20)


def gzip_bomb(size: int) -> bytes:
    """gzip(gzip(zeros)): served as ``Content-Encoding: gzip, gzip``, a 2 KB body."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    inner = b"".join([*(deflate.compress(chunk) for chunk in zeros(size)), deflate.flush()])
    return gzip.compress(inner, 9, mtime=0)


def brotli_bomb(size: int) -> bytes:
    return bytes(brotli.compress(bytes(size), quality=5))


def build() -> None:
    HOSTILE.mkdir(parents=True, exist_ok=True)
    for name, body, encoding in (
        ("gzip_bomb.gz", gzip_bomb(BOMB_SIZE), "gzip, gzip"),
        ("brotli_bomb.br", brotli_bomb(BOMB_SIZE), "br"),
    ):
        (HOSTILE / name).write_bytes(body)
        meta = {
            "status": 200,
            "headers": {"Content-Type": "application/json", "Content-Encoding": encoding},
            "reconstructed": True,
            "inflates_to": BOMB_SIZE,
            "note": f"decompression bomb: {len(body)} B that inflate to 1 GiB of zero bytes",
            "built_by": "python -m tests.support_hostile",
        }
        meta_path = HOSTILE / (name.rsplit(".", 1)[0] + ".meta.json")
        meta_path.write_text(json.dumps(meta, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    build()
