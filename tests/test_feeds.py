"""RSS/Atom: reconstructed feeds with real notification content, and XML attacks
(feedparser only ever gets bytes; entity declarations are refused)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbt_alert.errors import CrawlError
from tbt_alert.sources.eutbt import parse_eu_tbt_page
from tbt_alert.sources.feeds import FeedEntry, entry_to_record, parse_feed

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
FEED_URL = "https://enquiry-point.example/tbt/feed.xml"


def fixture(name: str) -> bytes:
    meta = json.loads((FEEDS / name).with_suffix(".meta.json").read_text(encoding="utf-8"))
    assert meta["reconstructed"] is True and meta["recorded_live"] is False
    return (FEEDS / name).read_bytes()


# --- real content --------------------------------------------------------------------------


def test_atom_feed() -> None:
    entries = parse_feed(fixture("enquiry_point_atom.xml"), FEED_URL)
    assert [e.symbols for e in entries] == [["G/TBT/N/KOR/700"], ["G/TBT/N/USA/532"], []]
    kor, usa, news = entries
    assert kor.id == "urn:tbt-alert:fixture:G-TBT-N-KOR-700"
    assert kor.title.startswith("G/TBT/N/KOR/700 – Revised version of the Act on Registration")
    assert (
        kor.link == "https://enquiry-point.example/tbt/notifications/KOR/700"
    )  # relative, resolved
    assert kor.published == datetime(2017, 1, 9, 8, 30, tzinfo=UTC)
    assert kor.summary_text.startswith("Notifying Member: Republic of Korea\nProducts covered:")
    assert "<" not in kor.summary_text and "&amp;" not in kor.summary_text
    assert "alert(" not in kor.summary_text
    assert usa.published == datetime(2010, 4, 9, tzinfo=UTC)
    assert "(ICS: 97.180)" in usa.summary_text
    assert news.link is None  # javascript: is not a link we keep


def test_atom_entries_to_records() -> None:
    kor, usa, news = parse_feed(fixture("enquiry_point_atom.xml"), FEED_URL)
    record = entry_to_record(kor)
    assert record is not None
    assert (record.symbol, record.member, record.source) == (
        "G/TBT/N/KOR/700",
        "Republic of Korea",
        "feed",
    )
    assert record.source_id == kor.id and record.source_url == kor.link
    assert record.extra["published"] == "2017-01-09T08:30:00+00:00"
    usa_record = entry_to_record(usa)
    assert usa_record is not None and usa_record.member == "United States"  # from the symbol's code
    assert entry_to_record(news) is None


def test_rss2_feed_windows_1252_with_netscape_doctype() -> None:
    entries = parse_feed(fixture("enquiry_point_rss2.xml"), FEED_URL)
    assert [e.id for e in entries] == [
        "eu-tbt-35249",
        "https://enquiry-point.example/tbt/COL/20/Add.5",
    ]
    eu, col = entries
    assert eu.symbols == ["G/TBT/N/EU/1097"]
    assert eu.published == datetime(2024, 11, 22, tzinfo=UTC)
    assert "“REACH”" in eu.summary_text  # &#147; of a cp1252 feed repaired
    assert col.published == datetime(2005, 11, 10, 9, 0, tzinfo=UTC)
    assert col.symbols == ["G/TBT/N/COL/20/Add.5", "G/TBT/N/COL/20/Add.4"]
    assert col.summary_text.endswith("Café réglement.")
    eu_record = entry_to_record(eu)
    assert eu_record is not None
    assert (eu_record.member, eu_record.comment_deadline) == ("European Union", "2025 January 21")
    col_record = entry_to_record(col)
    assert col_record is not None
    assert (col_record.symbol, col_record.notification_type) == ("G/TBT/N/COL/20/Add.5", "Addendum")
    assert col_record.extra["other_symbols"] == ["G/TBT/N/COL/20/Add.4"]


def test_entry_with_old_symbol_and_no_member_gives_no_record() -> None:
    entry = FeedEntry(
        "1", "G/TBT/Notif.97.323 electrical appliances", None, None, "", ["G/TBT/Notif.97.323"]
    )
    assert entry_to_record(entry) is None


def test_valid_empty_feed_is_an_empty_list() -> None:
    data = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    assert parse_feed(data, FEED_URL) == []


# --- garbage is an error, never "0 entries" -------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an RSS or Atom feed"),
        (b"<html><body><h1>Maintenance</h1></body></html>", "malformed|not an RSS"),
        (b'{"items": []}', "malformed|not an RSS"),
        (b"\x1f\x8b\x08\x00corrupt-gzip", "malformed|not an RSS"),
    ],
)
def test_not_a_feed_raises(data: bytes, message: str) -> None:
    with pytest.raises(CrawlError, match=message):
        parse_feed(data, FEED_URL)


def test_truncated_feed_raises_even_with_partial_entries() -> None:
    whole = fixture("enquiry_point_atom.xml")
    cut = whole[: whole.index(b"<entry>", whole.index(b"<entry>") + 1) + 40]
    with pytest.raises(CrawlError, match=r"cut short|malformed"):
        parse_feed(cut, FEED_URL)


def test_unknown_or_unsafe_encoding_raises() -> None:
    with pytest.raises(CrawlError, match="unknown encoding"):
        parse_feed(b'<?xml version="1.0" encoding="x-nope"?><rss/>', FEED_URL)
    with pytest.raises(CrawlError, match="ASCII-compatible"):
        parse_feed(b'<?xml version="1.0" encoding="cp500"?><rss/>', FEED_URL)


@pytest.mark.parametrize("value", ["<rss/>", "/etc/hostname", "http://127.0.0.1:9/feed"])
def test_str_is_rejected(value: str) -> None:
    with pytest.raises(TypeError, match="bytes"):
        parse_feed(value, FEED_URL)  # type: ignore[arg-type]


def test_feedparser_is_only_called_from_parse_feed_on_bytes() -> None:
    """Static check: feedparser has one call site, and it is given the fetched bytes (given a str
    it may open a path or a URL itself)."""
    root = Path(__file__).resolve().parent.parent
    package = root / "tbt_alert"
    calls = [
        (path.name, line.strip())
        for path in [*package.rglob("*.py"), *(root / "spiders").rglob("*.py")]
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"feedparser\.parse\(", line)
    ]
    assert calls == [("feeds.py", "parsed = feedparser.parse(")]
    source = (package / "sources" / "feeds.py").read_text(encoding="utf-8")
    call = source[source.index("feedparser.parse(") :]
    assert call.split("(", 1)[1].lstrip().startswith("data,")
    assert "isinstance(data, (bytes, bytearray))" in source


# --- XML attacks (entity declarations are refused) ----------------------------------------------------


class Listener:
    """A loopback TCP listener that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


SECRET = "tbt-alert-secret-7f3a9c"
ITEM = "<item><title>G/TBT/N/KOR/700 &{e};</title><description>&{e};</description></item>"


def attacks(secret_path: Path, port: int) -> dict[str, str]:
    laughs = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    big = "A" * 50_000
    return {
        "billion_laughs": f'<!DOCTYPE rss [<!ENTITY lol0 "lol">{laughs}]>'
        f'<rss version="2.0"><channel><title>x</title>{ITEM.format(e="lol9")}</channel></rss>',
        "quadratic_blowup": f'<!DOCTYPE rss [<!ENTITY big "{big}">]><rss version="2.0"><channel>'
        f"<title>x</title><item><title>G/TBT/N/KOR/700</title><description>{'&big;' * 20_000}"
        "</description></item></channel></rss>",
        "xxe_file": f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret_path}">]>'
        f'<rss version="2.0"><channel><title>x</title>{ITEM.format(e="xxe")}</channel></rss>',
        "xxe_etc_hostname": '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
        f'<rss version="2.0"><channel><title>x</title>{ITEM.format(e="xxe")}</channel></rss>',
        "xxe_http": f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/">]>'
        f'<rss version="2.0"><channel><title>x</title>{ITEM.format(e="xxe")}</channel></rss>',
        "parameter_entity_http": f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]>'
        '<rss version="2.0"><channel><title>x</title></channel></rss>',
        "external_dtd_http": f'<!DOCTYPE rss SYSTEM "http://127.0.0.1:{port}/rss.dtd">'
        '<rss version="2.0"><channel><title>x</title><item><title>G/TBT/N/KOR/700</title></item></channel></rss>',
        "malformed_with_entities": f'junk<!DOCTYPE rss [<!ENTITY big "{big}">]><rss><item><title>G/TBT/N/KOR/700 '
        + "&big;" * 2000,
    }


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


ATTACKS = list(attacks(Path("/x"), 1))


def _run_bounded(func: Callable[..., object], *args: object) -> tuple[object, float, int]:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result: object = func(*args)
    except CrawlError as e:
        result = e
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, elapsed, peak


@pytest.mark.parametrize("name", ATTACKS)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_xml_attacks_on_the_feed_path(
    name: str, encoding: str, secret_file: Path, listener: Listener
) -> None:
    text = attacks(secret_file, listener.port)[name]
    data = (f'<?xml version="1.0" encoding="{encoding}"?>' + text).encode(encoding)
    result, elapsed, peak = _run_bounded(parse_feed, data, FEED_URL)
    assert elapsed < 10.0  # catches a hang only; the peak shows nothing was expanded
    assert peak < 50 * 1024 * 1024
    if name == "external_dtd_http":  # no entity declared: read, but the DTD is never fetched
        assert isinstance(result, list) and result[0].symbols == ["G/TBT/N/KOR/700"]
    else:
        assert isinstance(result, CrawlError)
    assert SECRET not in repr(result)
    time.sleep(0.05)
    assert listener.connections == 0


@pytest.mark.parametrize("name", ATTACKS)
def test_xml_attacks_on_the_html_path(name: str, secret_file: Path, listener: Listener) -> None:
    text = attacks(secret_file, listener.port)[name]
    page = f"<html><body><h1>Title</h1>{text}</body></html>"
    result, elapsed, peak = _run_bounded(parse_eu_tbt_page, page, "https://x.example/n")
    assert elapsed < 10.0  # catches a hang only; the peak shows nothing was expanded
    assert peak < 50 * 1024 * 1024
    assert SECRET not in repr(result)
    assert "lollollol" not in repr(result)
    time.sleep(0.05)
    assert listener.connections == 0


def test_the_listener_does_notice_a_connection(listener: Listener) -> None:
    """The attack tests above would notice a fetch: prove the listener counts one."""
    with socket.create_connection(("127.0.0.1", listener.port), timeout=1):
        pass
    for _ in range(20):
        if listener.connections:
            break
        time.sleep(0.05)
    assert listener.connections == 1


# --- hostile bytes: only our documented errors ----------------------------------------------

XML_PIECES = [
    b'<?xml version="1.0"?>',
    b'<?xml version="1.0" encoding="utf-16"?>',
    b'<rss version="2.0">',
    b"<channel>",
    b"<item>",
    b"<title>",
    b"G/TBT/N/EU/1097",
    b"</title>",
    b"</item>",
    b"</channel>",
    b"</rss>",
    b'<feed xmlns="http://www.w3.org/2005/Atom">',
    b"<entry>",
    b"</entry>",
    b"</feed>",
    b"<link>",
    b"javascript:x",
    b"</link>",
    b"<pubDate>Mon, 99 Foo 2017</pubDate>",
    b"&amp;",
    b"&x;",
    b"<!DOCTYPE rss>",
    b"<![CDATA[<p>x</p>]]>",
    b"\x00",
    b"\xff\xfe",
    b"\xe9",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.lists(st.one_of(st.sampled_from(XML_PIECES), st.binary(max_size=10)), max_size=60).map(
            b"".join
        ),
    )
)
def test_hostile_bytes_raise_only_our_errors(data: bytes) -> None:
    try:
        entries = parse_feed(data, FEED_URL)
    except CrawlError:
        return
    for entry in entries:
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
        assert entry.published is None or entry.published.tzinfo is UTC
        entry_to_record(entry)
