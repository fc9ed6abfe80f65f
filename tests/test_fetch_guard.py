"""The fetch guard: check_url rules, properties, and the Scrapy middlewares in-process (allowed hosts only,
redirects included; bounded bodies).

Real crawls against hostile servers are in tests/test_crawl_hostile.py.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from tbt_alert.config import DEFAULT_ALLOWED_HOSTS
from tbt_alert.crawl.fetchguard import AllowList, FetchRefused, backoff_delay, check_url, host_port
from tbt_alert.crawl.middlewares import (
    BodySizeMiddleware,
    FetchGuardMiddleware,
    RetryBackoffMiddleware,
)
from tbt_alert.crawl.settings import crawl_settings
from tbt_alert.errors import ConfigError, CrawlError

PRODUCTION = list(DEFAULT_ALLOWED_HOSTS)
TEST = [*PRODUCTION, "wto.org", "127.0.0.1:8000", "[::1]:9000", "93.184.216.34"]

ALLOWED = [
    "https://epingalert.org/api/v1/azureSearch/getAll?page=1",
    "http://epingalert.org:80/",
    "HTTPS://EpingAlert.ORG./api",  # case and the root dot do not matter
    "https://docs.wto.org/dol2fe/Pages/SS/directdoc.aspx",
    "https://sub.docs.wto.org/",  # subdomains of a port-less name entry
    "https://wto.org/",
    "http://127.0.0.1:8000/api/v1/",  # exactly an allow-listed host:port
    "http://[::1]:9000/",
    "http://93.184.216.34/",  # a public address entry, on the default port
]

REFUSED = [
    ("file:///etc/hostname", "scheme file: is not http or https"),
    ("data:text/plain,hello", "scheme data:"),
    ("ftp://epingalert.org/x", "scheme ftp:"),
    ("gopher://epingalert.org:70/_x", "scheme gopher:"),
    ("javascript:alert(1)", "scheme javascript:"),
    ("//epingalert.org/x", "scheme (none)"),
    ("http://evil@epingalert.org/", "userinfo"),
    ("http://epingalert.org:x@evil.example/", "userinfo"),
    ("https://evil.example/", "host evil.example:443 is not in the allow-list"),
    ("https://notwto.org/", "not in the allow-list"),  # a suffix is not a subdomain
    ("https://epingalert.org.evil.example/", "not in the allow-list"),
    ("http://docs.wto.org:8080/", "docs.wto.org:8080 is not in the allow-list"),
    ("http://epingalert.org:443/", "not in the allow-list"),  # not http's default port
    ("http://127.0.0.1:8001/", "127.0.0.1:8001 is a non-public address"),
    ("http://127.0.0.1/", "127.0.0.1:80 is a non-public address"),
    ("http://[::ffff:127.0.0.1]:8000/", "non-public"),
    ("http://[::ffff:7f00:1]:8000/", "non-public"),
    ("http://2130706433:8000/", "non-public"),
    ("http://0x7f000001:8000/", "non-public"),
    ("http://0x7f.1:8000/", "non-public"),
    ("http://0177.0.0.1:8000/", "non-public"),
    ("http://127.1:8000/", "non-public"),
    ("http://127.0.0.1.:8001/", "non-public"),
    ("http://localhost:8000/", "localhost:8000 is a non-public address"),
    ("http://a.localhost/", "non-public"),
    ("http://10.1.2.3/", "non-public"),
    ("http://172.16.0.1/", "non-public"),
    ("http://192.168.1.1/", "non-public"),
    ("http://100.64.0.1/", "non-public"),  # shared address space (CGNAT)
    ("http://169.254.169.254/latest/meta-data/", "non-public"),  # cloud metadata
    ("http://0.0.0.0:8000/", "non-public"),
    ("http://224.0.0.1/", "non-public"),
    ("http://240.0.0.1/", "non-public"),
    ("http://[::]/", "non-public"),
    ("http://[fe80::1]/", "non-public"),
    ("http://[fd00::1]/", "non-public"),
    ("http://[ff02::1]/", "non-public"),
    ("http://[2002:7f00:1::1]/", "non-public"),  # 6to4 of 127.0.0.1
    ("http://[64:ff9b::a00:1]/", "non-public"),  # NAT64 of 10.0.0.1
    ("http://[::127.0.0.1]/", "non-public"),  # IPv4-compatible
    ("http://8.8.8.8/", "host 8.8.8.8:80 is not in the allow-list"),  # public but not listed
    ("http://134744072/", "not in the allow-list"),  # 8.8.8.8 spelled as a number
    ("http://1.2.3.256/", "malformed IP address"),
    ("http://example.123/", "malformed IP address"),
    ("http://08.0.0.1/", "malformed IP address"),
    ("http://epingalert.org:99999/", "malformed URL"),
    ("http://[::1/", "malformed URL"),
    ("http:///path", "no host"),
    ("http://exa mple.org/", "malformed host"),
    ("http://épingalert.org/", "malformed host"),  # Scrapy sends IDNA; raw Unicode is refused
]


@pytest.mark.parametrize("url", ALLOWED)
def test_allowed(url: str) -> None:
    check_url(url, TEST)


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(FetchRefused) as caught:
        check_url(url, TEST)
    assert reason in str(caught.value)
    assert isinstance(caught.value, CrawlError)


def test_the_production_allow_list_refuses_loopback() -> None:
    check_url("https://members.wto.org/crnattachments/2026/TBT/x.pdf", PRODUCTION)
    with pytest.raises(FetchRefused, match="non-public"):
        check_url("http://127.0.0.1:8000/api/v1/", PRODUCTION)


def test_a_long_url_is_shortened_in_the_message() -> None:
    with pytest.raises(FetchRefused) as caught:
        check_url("data:text/plain," + "A" * 10_000, TEST)
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("localhost", "needs an explicit ':port'"),
        ("127.0.0.1", "needs an explicit ':port'"),
        ("10.0.0.5", "needs an explicit ':port'"),
        ("0x7f.1:80", "write the address as 127.0.0.1"),
        ("[::FFFF:127.0.0.1]:80", "write the address as ::ffff:7f00:1"),
        ("::1", "malformed"),
        ("http://epingalert.org", "not 'host' or 'host:port'"),
        ("epingalert.org/api", "not 'host' or 'host:port'"),
        ("user@epingalert.org", "not 'host' or 'host:port'"),
        ("epingalert.org:0", "not 'host' or 'host:port'"),
        ("epingalert.org:http", "malformed"),
        ("a b", "malformed"),
    ],
)
def test_bad_allow_list_entries_are_config_errors(entry: str, reason: str) -> None:
    with pytest.raises(ConfigError, match="allowed host") as caught:
        AllowList.parse([entry])
    assert reason in str(caught.value)


def test_a_string_is_not_an_allow_list() -> None:
    with pytest.raises(ConfigError, match="list of hosts"):
        AllowList.parse("epingalert.org")  # would otherwise be read letter by letter


def test_host_port_is_the_entry_that_allows_a_base_url() -> None:
    assert host_port("https://epingalert.org/api/v1/") == "epingalert.org:443"
    assert host_port("http://127.0.0.1:8765/api/v1/") == "127.0.0.1:8765"
    assert host_port("http://[::1]:81/") == "[::1]:81"
    base = "http://127.0.0.1:8765/api/v1/"
    check_url(base + "azureSearch/getAll", [host_port(base)])


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_delay(n, 2.0, 30.0) for n in range(6)] == [0, 2, 4, 8, 16, 30]
    assert backoff_delay(10_000, 2.0, 30.0) == 30
    assert backoff_delay(3, 0.0, 30.0) == 0


# --- properties ------------------------------------------------------------------------------------

NON_PUBLIC = [
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
    "100.64.0.0/10", "0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4", "::1/128", "fc00::/7",
    "fe80::/10", "ff00::/8", "::ffff:0:0/96",
]  # fmt: skip
NON_PUBLIC_V4 = [n for n in NON_PUBLIC if ":" not in n]
non_public_ips = st.sampled_from(NON_PUBLIC).flatmap(lambda net: st.ip_addresses(network=net))
non_public_v4 = st.sampled_from(NON_PUBLIC_V4).flatmap(lambda net: st.ip_addresses(network=net))
ports = st.integers(1, 65535)
schemes = st.from_regex(r"\A[a-zA-Z][a-zA-Z0-9+.-]{0,15}\Z").filter(
    lambda s: s.lower() not in ("http", "https")
)


def literal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return f"[{ip}]" if ip.version == 6 else str(ip)


@given(scheme=schemes, rest=st.sampled_from(["//epingalert.org/x", "epingalert.org", "///etc/x"]))
def test_any_non_http_scheme_is_refused(scheme: str, rest: str) -> None:
    with pytest.raises(FetchRefused, match="is not http or https"):
        check_url(f"{scheme}:{rest}", TEST)


@given(ip=non_public_ips, port=ports, other=ports)
def test_a_non_public_ip_is_refused_unless_listed_with_its_port(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int, other: int
) -> None:
    url = f"http://{literal(ip)}:{port}/api"
    listed = f"{literal(ip)}:{port}"
    check_url(url, [listed])
    elsewhere = [*PRODUCTION, f"{literal(ip)}:{other}"] if other != port else PRODUCTION
    with pytest.raises(FetchRefused, match="non-public address"):
        check_url(url, elsewhere)


@given(ip=non_public_v4, port=ports)
def test_other_spellings_of_a_listed_non_public_ipv4_are_refused(
    ip: ipaddress.IPv4Address, port: int
) -> None:
    spellings = [
        str(int(ip)),
        f"0x{int(ip):x}",
        ".".join(f"0{byte:o}" for byte in ip.packed),
        f"[::ffff:{ip}]",
        f"[64:ff9b::{ip}]",
    ]
    for spelling in spellings:
        with pytest.raises(FetchRefused, match="non-public address"):
            check_url(f"http://{spelling}:{port}/", [f"{ip}:{port}"])


@given(label=st.from_regex(r"\A[a-z0-9-]{1,20}\Z"))
def test_subdomains_of_a_name_entry_only(label: str) -> None:
    check_url(f"https://{label}.wto.org/", ["wto.org"])
    with pytest.raises(FetchRefused, match="not in the allow-list"):
        check_url(f"https://{label}wto.org/", ["wto.org"])


@given(url=st.text(max_size=60) | st.builds("http://{}".format, st.text(max_size=40)))
def test_anything_is_either_allowed_on_a_listed_host_or_refused(url: str) -> None:
    try:
        check_url(url, TEST)
    except FetchRefused:
        return
    host = (urlsplit(url).hostname or "").rstrip(".")
    assert host in {"127.0.0.1", "::1", "93.184.216.34"} or any(
        host == entry or host.endswith("." + entry) for entry in [*PRODUCTION, "wto.org"]
    )


# --- the Scrapy middlewares, in-process ------------------------------------------------------------


def crawler_with(**settings: object) -> Crawler:
    return get_crawler(settings_dict={"TBT_ALLOWED_HOSTS": ["127.0.0.1:8000"], **settings})


def test_guard_refuses_a_request_loudly(caplog: pytest.LogCaptureFixture) -> None:
    crawler = crawler_with()
    guard = FetchGuardMiddleware.from_crawler(crawler)
    guard.process_request(Request("http://127.0.0.1:8000/robots.txt"))  # allowed: no exception
    request = Request("http://127.0.0.1:8001/secret", meta={"redirect_urls": ["http://x/a"]})
    with caplog.at_level(logging.ERROR), pytest.raises(IgnoreRequest, match=r"127\.0\.0\.1:8001"):
        guard.process_request(request)
    assert "fetch guard: refused to fetch http://127.0.0.1:8001/secret" in caplog.text
    assert "(redirected from http://x/a)" in caplog.text
    assert crawler.stats is not None
    assert crawler.stats.get_value("tbt/refused_requests") == 1
    assert crawler.stats.get_value("tbt/failure").startswith("fetch_refused: refused to fetch")


def test_guard_refuses_at_scheduling_before_offsite_can_drop_silently() -> None:
    crawler = crawler_with()
    guard = FetchGuardMiddleware.from_crawler(crawler)  # signals hold weak references
    results = crawler.signals.send_catch_log(
        signals.request_scheduled, request=Request("http://[::ffff:127.0.0.1]:8000/"), spider=None
    )
    failures = [r for _, r in results if isinstance(r, Failure)]
    assert len(failures) == 1 and failures[0].check(IgnoreRequest)
    assert guard.stats is crawler.stats and crawler.stats.get_value("tbt/refused_requests") == 1


def test_guard_names_an_unfollowed_redirect_to_a_file_url() -> None:
    guard = FetchGuardMiddleware.from_crawler(crawler_with())
    request = Request("http://127.0.0.1:8000/api")
    to_file = Response(request.url, status=302, headers={"Location": "file:///etc/hostname"})
    with pytest.raises(IgnoreRequest, match=r"file:///etc/hostname.*\(redirect 302 from http"):
        guard.process_response(request, to_file)
    relative = Response(request.url, status=301, headers={"Location": "/api/v2"})
    ok = Response(request.url, status=200, headers={"Location": "file:///etc/hostname"})
    assert guard.process_response(request, relative) is relative
    assert guard.process_response(request, ok) is ok


def test_a_bad_allow_list_stops_the_crawler_from_starting() -> None:
    with pytest.raises(ConfigError, match="needs an explicit ':port'"):
        FetchGuardMiddleware.from_crawler(crawler_with(TBT_ALLOWED_HOSTS=["localhost"]))


def test_body_size_names_the_cap_only_past_it() -> None:
    middleware = BodySizeMiddleware.from_crawler(crawler_with(DOWNLOAD_MAXSIZE=1000))
    request = Request("http://127.0.0.1:8000/api")
    for chunk in (b"x" * 600, b"x" * 600):
        middleware.bytes_received(data=chunk, request=request, spider=None)
    with pytest.raises(IgnoreRequest, match=r"exceeded DOWNLOAD_MAXSIZE \(1000 B\): 1200 B"):
        middleware.process_exception(request, DownloadCancelledError())
    small = Request("http://127.0.0.1:8000/api", meta={"tbt_bytes_received": 999})
    middleware.process_exception(small, DownloadCancelledError())  # under the cap: passes on


def test_backoff_reads_its_settings() -> None:
    settings = {"TBT_RETRY_BACKOFF_BASE": 0.5, "TBT_RETRY_BACKOFF_MAX": 3}
    middleware = RetryBackoffMiddleware.from_crawler(crawler_with(**settings))
    assert (middleware.base_s, middleware.max_s) == (0.5, 3.0)


def test_settings_keep_the_guard_when_middlewares_are_overridden() -> None:
    settings = crawl_settings({"DOWNLOADER_MIDDLEWARES": {"x.Y": 1}, "DOWNLOAD_DELAY": 0})
    middlewares = settings["DOWNLOADER_MIDDLEWARES"]
    assert (
        middlewares["tbt_alert.crawl.middlewares.FetchGuardMiddleware"] == 40 < 50
    )  # before Offsite
    assert middlewares["x.Y"] == 1 and settings["DOWNLOAD_DELAY"] == 0
    assert settings["TBT_ALLOWED_HOSTS"] == PRODUCTION
    assert crawl_settings()["DOWNLOADER_MIDDLEWARES"] == {
        "tbt_alert.crawl.middlewares.BodySizeMiddleware": 30,
        "tbt_alert.crawl.middlewares.FetchGuardMiddleware": 40,
        "tbt_alert.crawl.middlewares.RetryBackoffMiddleware": 45,
    }
