"""Loopback HTTP servers and golden-file helpers for spider tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
ROBOTS = b"User-agent: *\nDisallow:\n"


@dataclass(frozen=True)
class Reply:
    body: bytes
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    stall: bool = False  # accept the request, then never answer


def fixture_reply(slug: str, name: str) -> Reply:
    """A fixture file served with the status and headers of its ``.meta.json``."""
    path = FIXTURES / slug / name
    meta = json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".meta.json").read_text())
    return Reply(path.read_bytes(), int(meta["status"]), dict(meta["headers"]))


Route = Callable[[str, dict[str, list[str]]], Reply]


def by_page(replies: Mapping[int, Reply]) -> Route:
    """Answer API requests with ``replies[page]`` (404 JSON for other pages)."""

    def route(path: str, query: dict[str, list[str]]) -> Reply:
        page = int(query.get("page", ["1"])[0])
        return replies.get(page, Reply(b'{"error": "no such page"}', 404))

    return route


@contextmanager
def serve(route: Route) -> Iterator[tuple[str, list[str]]]:
    """Serve ``route`` (plus an allow-all /robots.txt); yield (base_url, requested paths)."""
    seen: list[str] = []
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            seen.append(self.path)
            if url.path == "/robots.txt":
                reply = Reply(ROBOTS, headers={"Content-Type": "text/plain"})
            else:
                reply = route(url.path, parse_qs(url.query))
            if reply.stall:
                release.wait(120)
                return
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/", seen
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def check_golden(name: str, items: list[dict[str, Any]], update: bool) -> None:
    """Compare ``items`` with tests/golden/<name>; rewrite the file instead when ``update``."""
    path = GOLDEN / name
    lines = [json.dumps(item, ensure_ascii=False, sort_keys=True) for item in items]
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", "utf-8")
        return
    assert path.exists(), f"{path} is missing: run pytest --update-golden and review the diff"
    expected = read_jsonl(path)
    assert len(items) == len(expected), f"{name}: {len(items)} items, golden has {len(expected)}"
    for index, (got, want) in enumerate(zip(items, expected, strict=True)):
        assert got == want, f"{name} item {index + 1} differs from the golden file"
