"""Which URLs a crawl may fetch (allow-listed hosts, no private or loopback addresses unless
allowed, http(s) only): pure logic, no I/O.

:func:`check_url` raises :class:`FetchRefused` unless all of these hold:

1. The scheme is ``http`` or ``https`` (never ``file:``, ``data:``, ``ftp:``, ``gopher:`` ...).
2. The URL carries no userinfo (``http://user@host/``), and its host and port are well formed.
3. The host is allowed by an allow-list entry. An entry is ``name``, ``address`` or
   ``host:port`` (IPv6 as ``[address]:port``):

   - ``host:port`` allows exactly that host, spelled the same way, on exactly that port;
   - ``name`` allows the name and its subdomains (``wto.org`` allows ``docs.wto.org``, as Scrapy's
     ``allowed_domains`` do), on the scheme's default port only (80 for http, 443 for https);
   - a public ``address`` allows that address, spelled the same way, on the default port.

4. A host that is not public - an IP literal in a loopback, private, shared, link-local,
   multicast, reserved or unspecified range, or a ``localhost`` name - is allowed only by an
   exact ``host:port`` entry (tests and the demo serve from such an entry). IPv4 is read the way
   resolvers read it (``2130706433``, ``0x7f.1``, ``0177.0.0.1``), and IPv4 embedded in IPv6
   (``[::ffff:127.0.0.1]``, 6to4, Teredo, NAT64, IPv4-compatible) is checked too. Since matching is
   by spelling and entries must be canonical, such alternative spellings are never allowed.

Names are not resolved: a public name whose DNS answer points at a private address (DNS rebinding)
is out of scope here; the defence is that only the operator's named hosts are allowed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from tbt_alert.errors import ConfigError, CrawlError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = {"http": 80, "https": 443}
LOCALHOST_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
MAX_URL_IN_MESSAGE = 200
_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


class FetchRefused(CrawlError):
    """A URL the fetch guard will not fetch; the message names the URL and the reason."""


@dataclass(frozen=True, slots=True)
class AllowEntry:
    host: str  # lower case, no brackets, no trailing dot
    port: int | None  # None: the scheme's default port, and subdomains for a name


@dataclass(frozen=True, slots=True)
class _Target:
    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress | None


class AllowList:
    """A parsed allow-list; ``AllowList.parse(entries).check(url)`` is :func:`check_url`."""

    def __init__(self, entries: Iterable[AllowEntry]) -> None:
        self.entries = tuple(entries)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """ConfigError for a malformed entry, or a non-public host without an explicit port."""
        if isinstance(entries, str | bytes):
            raise ConfigError(f"allowed hosts must be a list of hosts, not the string {entries!r}")
        return cls(parse_entry(entry) for entry in entries)

    def check(self, url: str) -> None:
        """Return if ``url`` may be fetched, else raise :class:`FetchRefused` saying why."""
        target = _target(url)
        if any(_matches(entry, target) for entry in self.entries):
            return
        if not _is_public(target):
            raise _refused(url, f"{_netloc(target)} is a non-public address and not allow-listed")
        raise _refused(url, f"host {_netloc(target)} is not in the allow-list")


def check_url(url: str, allowed: Iterable[str]) -> None:
    """Raise :class:`FetchRefused` unless ``url`` may be fetched under the ``allowed`` entries."""
    AllowList.parse(allowed).check(url)


def host_port(url: str) -> str:
    """The ``host:port`` allow-list entry for exactly the host and port of ``url``."""
    target = _target(url)
    return _netloc(target)


def parse_entry(entry: str) -> AllowEntry:
    text = entry.strip().lower().rstrip(".")
    split = urlsplit(f"//{text}")
    try:
        port = split.port
        host = _host(split)
        address = _address(host)
    except (ValueError, FetchRefused) as e:
        raise ConfigError(f"allowed host {entry!r} is malformed: {e}") from e
    if split.username is not None or split.path or split.query or port == 0:
        raise ConfigError(f"allowed host {entry!r} is not 'host' or 'host:port'")
    if address is not None and str(address) != host:
        raise ConfigError(f"allowed host {entry!r}: write the address as {address}")
    if port is None and not _is_public_host(host, address):
        raise ConfigError(f"allowed host {entry!r} is not public: it needs an explicit ':port'")
    return AllowEntry(host, port)


def backoff_delay(retry: int, base: float, cap: float) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, ...): ``base * 2**(retry-1)``, capped."""
    if retry <= 0 or base <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(retry - 1, 32)))


def _target(url: str) -> _Target:
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError as e:
        raise _refused(url, f"malformed URL ({e})") from e
    if split.scheme not in SCHEMES:
        scheme = f"{split.scheme}:" if split.scheme else "(none)"
        raise _refused(url, f"scheme {scheme} is not http or https")
    if "@" in split.netloc:
        raise _refused(url, "userinfo (user@host) in the URL")
    host = _host(split, url)
    return _Target(url, split.scheme, host, port or SCHEMES[split.scheme], _address(host, url))


def _host(split: SplitResult, url: str | None = None) -> str:
    host = (split.hostname or "").rstrip(".")
    if not host:
        raise _refused(url or split.geturl(), "no host")
    if ":" in host or _NAME.fullmatch(host):
        return host
    raise _refused(url or split.geturl(), f"malformed host {host!r}")


def _address(host: str, url: str | None = None) -> IPAddress | None:
    """The IP address ``host`` stands for, or None for a name; FetchRefused for a bad literal."""
    try:
        if ":" in host:
            return ipaddress.IPv6Address(host)
        if _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
            return _loose_ipv4(host)
    except ValueError as e:
        raise _refused(url or host, f"malformed IP address {host!r} ({e})") from e
    return None


def _loose_ipv4(host: str) -> ipaddress.IPv4Address:
    """IPv4 as resolvers (inet_aton) and the WHATWG URL standard read it: 1-4 parts, hex/octal."""
    parts = [_ipv4_part(part) for part in host.split(".")]
    if not 1 <= len(parts) <= 4 or any(part > 255 for part in parts[:-1]):
        raise ValueError("not an IPv4 address")
    value = parts[-1]
    if value >= 256 ** (5 - len(parts)):
        raise ValueError("last part out of range")
    for index, part in enumerate(parts[:-1]):
        value += part << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_part(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part, 10)


def _matches(entry: AllowEntry, target: _Target) -> bool:
    if entry.port is not None:
        return entry.host == target.host and entry.port == target.port
    if target.port != SCHEMES[target.scheme] or not _is_public(target):
        return False
    if target.address is not None:
        return entry.host == target.host
    return target.host == entry.host or target.host.endswith("." + entry.host)


def _is_public(target: _Target) -> bool:
    return _is_public_host(target.host, target.address)


def _is_public_host(host: str, address: IPAddress | None) -> bool:
    if address is None:
        return host not in LOCALHOST_NAMES and not host.endswith(".localhost")
    return all(_is_public_address(a) for a in (address, *_embedded_ipv4(address)))


def _is_public_address(address: IPAddress) -> bool:
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64, compatible)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if address in NAT64 or address in IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def _netloc(target: _Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.port}"


def _refused(url: str, reason: str) -> FetchRefused:
    shown = url if len(url) <= MAX_URL_IN_MESSAGE else url[:MAX_URL_IN_MESSAGE] + "..."
    return FetchRefused(f"refused to fetch {shown}: {reason}")
