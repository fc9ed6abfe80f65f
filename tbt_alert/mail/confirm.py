"""The confirmation mail of a self-service subscription: one message, no list headers (it is not
a bulletin), sent through the configured mailer like every other message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage

import jinja2

from tbt_alert.alerts.ids import make_message_id
from tbt_alert.errors import DeliveryError
from tbt_alert.mail.message import build_notice
from tbt_alert.mail.render import (
    Lang,
    RenderedMessage,
    clean_line,
    default_environment,
    safe_url,
)


def confirmation_message(
    *,
    recipient: str,
    lang: Lang,
    confirm_url: str,
    sectors: Sequence[str],
    markets: Sequence[str],
    cadence: str,
    sender: str,
    domain: str,
    key: str,
    date: datetime,
) -> EmailMessage:
    """The mail asking ``recipient`` to confirm; ``key`` makes its Message-ID (one per signup)."""
    if not safe_url(confirm_url):
        raise DeliveryError("the confirmation URL must be an absolute http(s) URL")
    env = default_environment()
    variables = {
        "confirm_url": confirm_url,
        "sectors": list(sectors),
        "markets": list(markets),
        "cadence": cadence,
    }
    try:
        subject, text, html = (
            env.get_template(name).render(variables)
            for name in (
                f"confirm.subject.{lang}.j2",
                f"confirm.{lang}.txt.j2",
                f"confirm.{lang}.html.j2",
            )
        )
    except jinja2.TemplateError as e:
        raise DeliveryError(f"cannot render the confirmation mail ({lang}): {e}") from e
    rendered = RenderedMessage(clean_line(subject), text, html, "confirm")
    return build_notice(
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        sender=sender,
        recipient=recipient,
        message_id=make_message_id(key, recipient, domain),
        date=date,
    )
