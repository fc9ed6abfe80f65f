"""The links a subscriber gets: ``<public_url>/<page>/<signed token>``, one page per purpose.

Messages (mail) and the web app build them here, so both agree on paths and purposes."""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from urllib.parse import quote

from tbt_alert.tokens import Purpose, make_token

PAGES: dict[str, Purpose] = {
    "confirm": Purpose.CONFIRM,
    "preferences": Purpose.PREFERENCES,
    "unsubscribe": Purpose.UNSUBSCRIBE,
    "comment": Purpose.COMMENT,  # ref_id: the notification
}


def signed_link(
    public_url: str,
    secret: str,
    page: str,
    subscriber_id: int,
    *,
    now: datetime,
    ref_id: int = 0,
) -> str:
    """The absolute URL of ``page`` (confirm, preferences, unsubscribe, comment) for one
    subscriber."""
    token = make_token(secret, PAGES[page], subscriber_id, now=now, ref_id=ref_id)
    return f"{public_url.rstrip('/')}/{page}/{token}"


def unsubscribe_mailto(sender: str, secret: str, subscriber_id: int, *, now: datetime) -> str:
    """``mailto:<sender>?subject=unsubscribe%20<token>`` for the List-Unsubscribe header."""
    token = make_token(secret, Purpose.UNSUBSCRIBE, subscriber_id, now=now)
    return f"mailto:{parseaddr(sender)[1]}?subject={quote('unsubscribe ' + token)}"
