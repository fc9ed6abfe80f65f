"""Stable ids planning gives a delivery before anything is sent: its Message-ID.

The same (bulletin, subscriber) always gets the same id, so a retried or re-planned delivery is
recognisable as the same message (at-least-once sending, de-duplicating readers)."""

from __future__ import annotations

import hashlib
import re

from tbt_alert.errors import DeliveryError

DOMAIN = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$"
)


def make_message_id(bulletin_key: str, subscriber_key: str, domain: str) -> str:
    """``<tbt.<hash>@domain>``: the same (bulletin, subscriber) always gets the same id."""
    if not DOMAIN.match(domain):
        raise DeliveryError(f"invalid Message-ID domain {domain!r}")
    material = f"{len(bulletin_key)}:{bulletin_key}|{subscriber_key}".encode()
    return f"<tbt.{hashlib.sha256(material).hexdigest()[:32]}@{domain}>"
