"""The analyst's operations on calls for comments, as plain functions over a session: what the
``tbt-alert comments`` commands do, callable from a test without the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from tbt_alert.alerts.subscribers import normalise_email
from tbt_alert.comments.calls import CommentsError, draft_counts, find_call, list_calls, move_to
from tbt_alert.comments.drafts import (
    add_draft,
    attachments_of,
    clean_text,
    drafts_of,
    read_text_file,
)
from tbt_alert.comments.export import Heading, Lang, export_docx, export_markdown
from tbt_alert.comments.merge import merge_drafts, parse_consolidated
from tbt_alert.config import CommentsConfig
from tbt_alert.status import CallStatus, DraftChannel
from tbt_alert.store.tables import CommentCall, Notification, Subscriber
from tbt_alert.text.members import normalise_member

FINISHED = (CallStatus.SUBMITTED, CallStatus.ANSWERED, CallStatus.CLOSED, CallStatus.WITHDRAWN)


@dataclass(frozen=True)
class CallView:
    call: CommentCall
    drafts: int
    days_left: int  # to the internal deadline
    wto_days_left: int
    due_soon: bool  # the internal deadline is within the reminder days
    overdue: bool  # the internal deadline passed and nothing was submitted

    @property
    def flag(self) -> str:
        return "OVERDUE" if self.overdue else "DUE SOON" if self.due_soon else ""


def call_views(
    session: Session,
    *,
    today: date,
    reminder_days: int,
    symbol: str | None = None,
    status: str | None = None,
) -> list[CallView]:
    counts = draft_counts(session)
    out = []
    for call in list_calls(session, symbol=symbol, status=status):
        left = (call.internal_deadline - today).days
        active = call.status not in FINISHED
        out.append(
            CallView(
                call=call,
                drafts=counts.get(call.id or 0, 0),
                days_left=left,
                wto_days_left=(call.wto_deadline - today).days,
                due_soon=active and 0 <= left <= reminder_days,
                overdue=active and left < 0,
            )
        )
    return out


def call_json(session: Session, view: CallView) -> dict[str, Any]:
    call = view.call
    return {
        "symbol": call.symbol,
        "status": str(call.status),
        "analyst": call.analyst,
        "wto_deadline": call.wto_deadline.isoformat(),
        "internal_deadline": call.internal_deadline.isoformat(),
        "days_left": view.days_left,
        "due_soon": view.due_soon,
        "overdue": view.overdue,
        "submitted_on": call.submitted_on.isoformat() if call.submitted_on else None,
        "drafts": [
            {
                "sender": d.sender,
                "channel": str(d.channel),
                "received_at": d.received_at.isoformat(),
                "text": d.text,
                "attachments": [
                    {"name": a.name, "content_type": a.content_type, "size": a.size}
                    for a in attachments_of(session, d)
                ],
                "refused": d.refused,
            }
            for d in drafts_of(session, call)
        ],
    }


def import_draft(
    session: Session,
    symbol: str,
    path: Path,
    *,
    sender: str,
    config: CommentsConfig,
    now: datetime,
) -> CommentCall:
    """A draft from a file (docx, txt, md: recognised by content) sent by ``sender``."""
    address = normalise_email(sender)
    call = find_call(session, symbol)
    text = read_text_file(path)
    subscriber = session.exec(select(Subscriber).where(Subscriber.email == address)).first()
    add_draft(
        session,
        call,
        sender=address,
        channel=DraftChannel.FILE,
        text=text,
        received_at=now,
        subscriber_id=subscriber.id if subscriber else None,
        attachment_max_bytes=config.attachment_max_bytes,
        max_chars=config.draft_max_chars,
    )
    return call


def consolidated_text(session: Session, call: CommentCall, *, rebuild: bool = False) -> str:
    if call.consolidated and not rebuild:
        return call.consolidated
    drafts = drafts_of(session, call)
    if not drafts:
        raise CommentsError(f"no drafts for {call.symbol} yet: nothing to merge")
    return merge_drafts(drafts)


def save_consolidated(session: Session, call: CommentCall, text: str, *, now: datetime) -> None:
    if not text.strip():
        raise CommentsError("the consolidated comment is empty: nothing saved")
    call.consolidated, call.updated_at = clean_text(text, 1_000_000), now
    if call.status == CallStatus.OPEN:
        call.status = CallStatus.DRAFTING
    session.add(call)
    session.flush()


def export_comment(
    session: Session,
    symbol: str,
    *,
    fmt: str,
    lang: Lang,
    config: CommentsConfig,
    today: date,
) -> bytes:
    call = find_call(session, symbol)
    row = session.get(Notification, call.notification_id)
    if row is None:
        raise CommentsError(f"notification {call.symbol} is gone")
    member = normalise_member(row.member_name, row.member_code or None)
    name = (member.name_zh or member.name_en) if lang == "zh" else member.name_en
    head = Heading(
        symbol=row.symbol,
        title=row.title,
        member=name or row.member_name or row.member_code,
        distributed=row.distribution_date,
        written=today,
        contact=config.contact,
    )
    body = parse_consolidated(consolidated_text(session, call))
    if fmt == "docx":
        return export_docx(head, body, lang)
    return export_markdown(head, body, lang).encode("utf-8")


def submit(session: Session, symbol: str, *, on: date, now: datetime) -> CommentCall:
    call = find_call(session, symbol)
    if not call.consolidated:
        raise CommentsError(f"merge the drafts of {call.symbol} first: nothing consolidated")
    move_to(session, call, CallStatus.SUBMITTED, now=now)
    call.submitted_on = on
    session.add(call)
    return call


def record_reply(session: Session, symbol: str, path: Path, *, now: datetime) -> CommentCall:
    call = find_call(session, symbol)
    text = read_text_file(path)
    move_to(session, call, CallStatus.ANSWERED, now=now)
    call.reply_text = clean_text(text, 1_000_000)
    session.add(call)
    return call


def assign(session: Session, symbol: str, analyst: str, *, now: datetime) -> CommentCall:
    name = analyst.strip()
    if not name or len(name) > 320 or any(c < " " for c in name):
        raise CommentsError("give the analyst's name or email address on one line")
    if "@" in name:  # reminders go there: it must be an address
        name = normalise_email(name)
    call = find_call(session, symbol)
    call.analyst, call.analyst_told, call.updated_at = name, call.internal_deadline, now
    session.add(call)
    return call


def close(session: Session, symbol: str, *, now: datetime) -> CommentCall:
    call = find_call(session, symbol)
    move_to(session, call, CallStatus.CLOSED, now=now)
    return call
