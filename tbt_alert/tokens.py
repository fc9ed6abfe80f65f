"""Signed tokens for links and reply addresses: one format for every purpose.

A token says *what it is for* (confirm, preferences, unsubscribe, comment, reply, bounce), *whom* (a
subscriber id, never the address), optionally *about what* (a notification or bulletin id) and
*when it was issued*. It is signed with the configured secret key (HMAC-SHA256 over a key derived
for tokens only), so nobody without the key can make or alter one.

Compact on purpose: a reply address ``reply+TOKEN@domain`` must fit the 64 octets an e-mail local
part may hold, and mail systems may change its case. So a token is 26 bytes (version, purpose,
subscriber id, reference id, issue time, 12-byte MAC) written in lower-case base32: 42 characters,
read back in any case. A forged, altered, truncated, wrong-purpose or expired token raises
:class:`TokenError` whose ``reason`` says which, for a clear answer to the person who used it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from tbt_alert.errors import TbtAlertError

VERSION = 1
_BODY = struct.Struct(">BBIII")  # version, purpose, subscriber id, reference id, issued (unix s)
_MAC_BYTES = 12
TOKEN_LENGTH = 42  # base32 of 26 bytes, without padding
MIN_SECRET_LENGTH = 16


class Purpose(IntEnum):
    CONFIRM = 1  # confirm a subscription (or a change of preferences)
    PREFERENCES = 2  # open and change one's preferences
    UNSUBSCRIBE = 3  # leave, by a link or RFC 8058 one-click POST
    COMMENT = 4  # the web comment form for one notification
    REPLY = 5  # the Reply-To address of a warning: a reply becomes a comment draft
    BOUNCE = 6  # the VERP return path of one delivery (reference: the delivery id)


# How long a token stays valid. An unsubscribe link must keep working for as long as old
# messages are read; a confirmation is short-lived.
MAX_AGE: dict[Purpose, timedelta] = {
    Purpose.CONFIRM: timedelta(days=7),
    Purpose.PREFERENCES: timedelta(days=180),
    Purpose.UNSUBSCRIBE: timedelta(days=730),
    Purpose.COMMENT: timedelta(days=180),
    Purpose.REPLY: timedelta(days=180),
    Purpose.BOUNCE: timedelta(days=60),  # reports of failure come within days
}


class TokenError(TbtAlertError):
    """A token that cannot be used; ``reason`` is one of: malformed, forged, wrong_purpose, expired."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Token:
    purpose: Purpose
    subscriber_id: int
    ref_id: int  # a notification or bulletin id; 0 when the purpose needs none
    issued_at: datetime


@functools.lru_cache(maxsize=8)  # one derivation per secret, not one per token
def _key(secret: str) -> bytes:
    if len(secret) < MIN_SECRET_LENGTH:
        raise TbtAlertError(f"the secret key must be at least {MIN_SECRET_LENGTH} characters")
    return hmac.new(secret.encode("utf-8"), b"tbt-alert tokens v1", hashlib.sha256).digest()


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:_MAC_BYTES]


def make_token(
    secret: str, purpose: Purpose, subscriber_id: int, *, now: datetime, ref_id: int = 0
) -> str:
    """A signed token, 42 lower-case base32 characters."""
    if not 0 < subscriber_id < 2**32 or not 0 <= ref_id < 2**32:
        raise ValueError("subscriber and reference ids must fit in 32 bits")
    body = _BODY.pack(VERSION, int(purpose), subscriber_id, ref_id, int(now.timestamp()))
    raw = body + _mac(_key(secret), body)
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def read_token(secret: str, token: str, purpose: Purpose, *, now: datetime) -> Token:
    """The token's content when it is genuine, for ``purpose`` and not expired; else TokenError."""
    text = token.strip().upper()
    if len(text) != TOKEN_LENGTH or not text.isalnum():
        raise TokenError("malformed", "the link is incomplete or damaged")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except ValueError as e:
        raise TokenError("malformed", "the link is incomplete or damaged") from e
    if base64.b32encode(raw).decode("ascii").rstrip("=") != text:  # unused trailing bits set
        raise TokenError("malformed", "the link is incomplete or damaged")
    body, mac = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(mac, _mac(_key(secret), body)):
        raise TokenError("forged", "the link was not issued by this service")
    version, purpose_value, subscriber_id, ref_id, issued = _BODY.unpack(body)
    if version != VERSION or purpose_value != int(purpose):
        raise TokenError(
            "wrong_purpose", f"the link is not meant for this ({purpose.name.lower()})"
        )
    issued_at = datetime.fromtimestamp(issued, UTC)
    if now - issued_at > MAX_AGE[purpose]:
        raise TokenError("expired", f"the link expired on {(issued_at + MAX_AGE[purpose]).date()}")
    if issued_at - now > timedelta(minutes=5):
        raise TokenError("forged", "the link was issued in the future")
    return Token(Purpose(purpose_value), subscriber_id, ref_id, issued_at)
