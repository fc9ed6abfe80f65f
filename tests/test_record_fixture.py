"""``tbt-alert dev record-fixture`` against a loopback server, and its pieces."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tbt_alert.cli.dev import dev
from tbt_alert.cli.main import main
from tbt_alert.crawl.record_fixture import (
    USER_AGENT,
    Fetched,
    default_name,
    fetch_url,
    record_fixture,
)
from tbt_alert.errors import CrawlError
from tests.support_http import Reply, serve

PDF = b"%PDF-1.4\n% a recorded body\n"
HEADERS = {"Content-Type": "application/pdf", "Set-Cookie": "session=secret", "ETag": '"abc"'}


def route(path: str, query: dict[str, list[str]]) -> Reply:
    if path.endswith("/big"):
        return Reply(b"x" * 5000, headers={"Content-Type": "text/plain"})
    if path.endswith("/gone"):
        return Reply(b"gone", 404, {"Content-Type": "text/plain"})
    if path.endswith("/to-file"):
        return Reply(b"", 302, {"Location": "file:///etc/passwd"})
    if path.endswith("/moved"):
        return Reply(
            b"",
            301,
            {"Location": "/dol2fe/Pages/SS/directdoc.aspx?filename=q:/G/TBTN17/KOR700.pdf"},
        )
    return Reply(PDF, headers=HEADERS)


@pytest.fixture
def server() -> Iterator[str]:
    with serve(route) as (base_url, _):
        yield base_url.split("/api/")[0]


@pytest.fixture
def cli() -> Iterator[CliRunner]:
    """``main`` with ``dev`` registered, as the lead will wire it; removed again afterwards."""
    added = "dev" not in main.commands
    if added:
        main.add_command(dev)
    yield CliRunner()
    if added:
        main.commands.pop("dev")


def invoke(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(main, ["dev", "record-fixture", *args])


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_records_body_and_provenance(cli: CliRunner, server: str, tmp_path: Path) -> None:
    url = f"{server}/dol2fe/Pages/SS/directdoc.aspx?filename=q:/G/TBTN17/KOR700.pdf&Open=True"
    before = datetime.now(UTC).replace(microsecond=0)
    result = invoke(cli, "wtodoc", url, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    body_path, meta_path = (
        tmp_path / "wtodoc" / "KOR700.pdf",
        tmp_path / "wtodoc" / "KOR700.meta.json",
    )
    assert body_path.read_bytes() == PDF
    assert "recorded" in result.output and str(body_path) in result.output
    meta = json.loads(meta_path.read_text("utf-8"))
    fetched_at = datetime.fromisoformat(meta.pop("fetched_at"))
    assert fetched_at.utcoffset() == timedelta(0) and before <= fetched_at <= datetime.now(UTC)
    assert meta == {
        "url": url,
        "status": 200,
        "headers": {
            "Content-Type": "application/pdf",
            "Content-Length": str(len(PDF)),
            "ETag": '"abc"',
            "Date": meta["headers"]["Date"],
            "Server": meta["headers"]["Server"],
        },
        "reconstructed": False,
        "recorded_live": True,
        "recorded_by": "tbt-alert dev record-fixture",
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "size": len(PDF),
    }
    assert not list(tmp_path.rglob("*.partial"))


def test_redirect_is_followed_and_noted(server: str, tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 18, 0, tzinfo=timezone(timedelta(hours=8)))
    recording = record_fixture("wtodoc", f"{server}/moved", root=tmp_path, now=now, name="kor.pdf")
    assert recording.meta["final_url"].endswith("filename=q:/G/TBTN17/KOR700.pdf")
    assert recording.meta["fetched_at"] == "2026-11-26T10:00:00+00:00"
    assert recording.meta_path.name == "kor.meta.json"


@contextmanager
def one_request(body: bytes, agents: list[str | None], length: bool = True) -> Iterator[str]:
    """A server for one GET that notes the User-Agent; without ``length`` the body is
    delimited by closing the connection (HTTP/1.0), so only the streamed cap can stop it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            agents.append(self.headers.get("User-Agent"))
            self.send_response(200)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with HTTPServer(("127.0.0.1", 0), Handler) as httpd:
        thread = threading.Thread(target=httpd.handle_request, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}/x.pdf"
        thread.join(5)


def test_sends_an_identifying_user_agent() -> None:
    agents: list[str | None] = []
    with one_request(PDF, agents) as url:
        fetched = fetch_url(url)
    assert (fetched.status, fetched.body) == (200, PDF)
    assert agents == [USER_AGENT] and USER_AGENT.startswith("tbt-alert/")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://docs.wto.org/x.pdf",
        "data:text/plain,hello",
        "http:///no-host",
        "docs.wto.org/x.pdf",
    ],
)
def test_refuses_non_http_urls(cli: CliRunner, tmp_path: Path, url: str) -> None:
    result = invoke(cli, "wtodoc", url, "--out", str(tmp_path))
    assert result.exit_code == 2 and "only http(s) URLs" in result.output
    assert not any(tmp_path.iterdir())


def test_refuses_a_redirect_to_another_scheme(cli: CliRunner, server: str, tmp_path: Path) -> None:
    result = invoke(cli, "wtodoc", f"{server}/to-file", "--out", str(tmp_path))
    assert result.exit_code == 1 and "redirect to 'file:///etc/passwd' refused" in result.output
    assert not any(tmp_path.iterdir())


def test_size_cap(cli: CliRunner, server: str, tmp_path: Path) -> None:
    result = invoke(cli, "wtodoc", f"{server}/big", "--out", str(tmp_path), "--max-bytes", "4000")
    assert result.exit_code == 1 and "4000-byte cap" in result.output
    assert not any(tmp_path.iterdir())
    assert invoke(cli, "wtodoc", f"{server}/big", "--out", str(tmp_path)).exit_code == 0


def test_streamed_body_over_the_cap_is_refused() -> None:
    big = b"x" * 300_000
    with (
        one_request(big, []) as url,
        pytest.raises(CrawlError, match="Content-Length 300000 is over"),
    ):
        fetch_url(url, max_bytes=100_000)
    with (
        one_request(big, [], length=False) as url,
        pytest.raises(CrawlError, match="the body is over the 100000-byte cap"),
    ):
        fetch_url(url, max_bytes=100_000)


def test_does_not_overwrite_without_force(cli: CliRunner, server: str, tmp_path: Path) -> None:
    target = tmp_path / "wtodoc" / "x.pdf"
    target.parent.mkdir()
    target.write_bytes(b"hand-made")
    result = invoke(cli, "wtodoc", f"{server}/x.pdf", "--out", str(tmp_path))
    assert result.exit_code == 1 and "not overwritten (use --force)" in result.output
    assert target.read_bytes() == b"hand-made"
    assert (
        invoke(cli, "wtodoc", f"{server}/x.pdf", "--out", str(tmp_path), "--force").exit_code == 0
    )
    assert target.read_bytes() == PDF


def test_error_status_is_refused_unless_kept(cli: CliRunner, server: str, tmp_path: Path) -> None:
    result = invoke(cli, "wtodoc", f"{server}/gone", "--out", str(tmp_path))
    assert result.exit_code == 1 and "HTTP 404; not recorded" in result.output
    kept = invoke(cli, "wtodoc", f"{server}/gone", "--out", str(tmp_path), "--keep-errors")
    assert kept.exit_code == 0 and "HTTP 404" in kept.output
    assert json.loads((tmp_path / "wtodoc" / "gone.meta.json").read_text())["status"] == 404


def test_offline_says_so(cli: CliRunner, tmp_path: Path) -> None:
    result = invoke(
        cli, "wtodoc", f"http://127.0.0.1:{closed_port()}/x.pdf", "--out", str(tmp_path)
    )
    assert result.exit_code == 1
    assert "error: cannot reach 127.0.0.1" in result.output and "seems offline" in result.output
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("source", "name"),
    [("../etc", None), ("wtodoc", "../x.pdf"), ("wtodoc", "x.meta.json"), ("WTO DOC", None)],
)
def test_refuses_bad_source_or_name(tmp_path: Path, source: str, name: str | None) -> None:
    def never(url: str) -> Fetched:
        raise AssertionError("fetched despite bad arguments")

    with pytest.raises(ValueError, match=r"SOURCE|--name"):
        record_fixture(
            source,
            "https://docs.wto.org/x.pdf",
            root=tmp_path,
            now=datetime.now(UTC),
            name=name,
            fetch=never,
        )


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (
            "https://docs.wto.org/dol2fe/Pages/SS/directdoc.aspx?filename=q:/G/TBTN11/MYS27R1.pdf&Open=True",
            "MYS27R1.pdf",
        ),
        (
            "https://docs.wto.org/imrd/directdoc.asp?DDFDocuments/T/G/TBTN26/ARE703.docx",
            "ARE703.docx",
        ),
        (
            "https://members.wto.org/crnattachments/2026/TBT/ARE/26_02883_00_e.pdf",
            "26_02883_00_e.pdf",
        ),
        ("https://technical-barriers-trade.ec.europa.eu/en/notification/35249", "35249"),
        ("https://epingalert.org/", "response"),
        ("https://x.org/a%20b%2F..%2Fc.html", "c.html"),
    ],
)
def test_default_name(url: str, name: str) -> None:
    assert default_name(url) == name
