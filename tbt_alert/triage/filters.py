"""The filters search, export and stats share: sector, member, dates, still open for comment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tbt_alert.errors import TbtAlertError
from tbt_alert.status import DecisionKind


class FilterError(TbtAlertError):
    """A filter names something that does not exist (a sector, a member)."""


@dataclass(frozen=True)
class Filters:
    sector: str | None = None
    member: str | None = None  # member code, any case
    since: date | None = None  # distributed on or after
    until: date | None = None  # distributed on or before
    open_on: date | None = None  # comment deadline on or after this day ("--open")

    def check(self, sector_ids: tuple[str, ...]) -> None:
        """One line listing the valid ids when the sector is unknown."""
        if self.sector is not None and self.sector not in sector_ids:
            raise FilterError(
                f"unknown sector {self.sector!r}; valid sectors: {', '.join(sector_ids)}"
            )

    def sql(self, *, sqlite: bool) -> tuple[list[str], list[Any]]:
        """The same conditions as ``where`` and ``sector_like``, as SQL text on ``notification
        n`` with ``?`` placeholders, and their values (store.dbapi's readers run them)."""
        out: list[str] = []
        params: list[Any] = []

        def day(value: date) -> Any:
            return value.isoformat() if sqlite else value  # SQLite stores dates as ISO text

        if self.member:
            out.append("upper(n.member_code) = ?")
            params.append(self.member.strip().upper())
        if self.since:
            out.append("n.distribution_date >= ?")
            params.append(day(self.since))
        if self.until:
            out.append("n.distribution_date <= ?")
            params.append(day(self.until))
        if self.open_on:
            out.append("n.comment_deadline >= ?")
            params.append(day(self.open_on))
        if self.sector is not None:
            out.append(
                "(CAST(n.classification AS VARCHAR) LIKE ? OR n.id IN (SELECT d.notification_id "
                "FROM decision d WHERE d.kind = ? AND d.value = ? AND d.undone_at IS NULL))"
            )
            params += [f'%"{self.sector}"%', str(DecisionKind.LABEL_ADD), self.sector]
        return out, params

    def where(self) -> list[Any]:
        """SQL conditions on ``notification``; the sector one is a coarse text match on the
        stored classification, confirmed by ``keep``."""
        from sqlalchemy import func
        from sqlmodel import col

        from tbt_alert.store.tables import Notification

        out: list[Any] = []
        if self.member:
            out.append(func.upper(col(Notification.member_code)) == self.member.strip().upper())
        if self.since:
            out.append(col(Notification.distribution_date) >= self.since)
        if self.until:
            out.append(col(Notification.distribution_date) <= self.until)
        if self.open_on:
            out.append(col(Notification.comment_deadline) >= self.open_on)
        return out

    def sector_like(self) -> Any | None:
        if self.sector is None:
            return None
        from sqlalchemy import String, cast
        from sqlmodel import col, or_, select

        from tbt_alert.store.tables import Decision, Notification

        added = select(col(Decision.notification_id)).where(
            Decision.kind == DecisionKind.LABEL_ADD,
            Decision.value == self.sector,
            col(Decision.undone_at).is_(None),
        )
        return or_(
            cast(Notification.classification, String).like(f'%"{self.sector}"%'),
            col(Notification.id).in_(added),
        )

    def keep(self, labels: frozenset[str]) -> bool:
        return self.sector is None or self.sector in labels
