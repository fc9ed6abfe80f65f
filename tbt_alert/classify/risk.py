"""Risk of one measure for one sector: red, amber or green, with the reasons.

Points, from what exporters care about:

* market: Wenzhou's export weight there (EU and USA high for every sector, Russia too for footwear;
  other large markets medium) -> +2 / +1;
* mandatory regulation (vs voluntary standard) -> +1;
* time: comment window closing within 30 days, or entry into force within 180 days -> +1;
* kind: ban or restriction +2; testing and certification +1; labelling +0 (named as a reason).

red >= 5 points, amber >= 3, green below. ``now`` is always passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from tbt_alert.classify.reasons import Reason, ReasonKind
from tbt_alert.errors import SymbolError
from tbt_alert.record import CanonicalRecord
from tbt_alert.text.dates import parse_date, parse_deadline
from tbt_alert.text.members import normalise_member
from tbt_alert.text.phrases import normalise_text
from tbt_alert.text.symbols import parse_symbol

Level = Literal["red", "amber", "green"]
RED, AMBER = 5, 3
HIGH_MARKETS = {"EU", "USA"}
MEDIUM_MARKETS = {
    "JPN",
    "KOR",
    "GBR",
    "CAN",
    "AUS",
    "SAU",
    "ARE",
    "BHR",
    "KWT",
    "OMN",
    "QAT",
    "IND",
    "BRA",
    "MEX",
    "RUS",
    "TUR",
    "VNM",
    "THA",
    "IDN",
    "MYS",
    "CHL",
    "ISR",
    "ZAF",
}
SECTOR_HIGH = {"footwear_leather": {"RUS"}}
_KINDS = (
    (
        "ban",
        2,
        r"\bban\b|prohibit|restriction|restrict|limit values|maximum (?:permitted|"
        r"allowed)|interdiction|interdit|prohib|restricci|禁止|限制|限量|限值|最高许可",
    ),
    (
        "testing",
        1,
        r"certif|conformity assessment|third[- ]party|testing|test procedure|"
        r"type approval|inspection|évaluation de la conformité|evaluación de la conformidad|认证|合格评定|检验|"
        r"检测|测试|强制性产品认证",
    ),
    ("labelling", 0, r"label|marking|étiquetage|etiquetado|rotulado|标签|标识|标志"),
)
_KIND_RES = tuple((name, pts, re.compile(rx)) for name, pts, rx in _KINDS)
_MANDATORY = re.compile(
    r"\b(?:technical regulation|mandatory|compulsory|regulations?|decree|"
    r"(?:executive|ministerial|control) order|quality control order|reglamento|"
    r"règlement|obligatoire|obligatorio)\b|强制|法规|法令|法案|条例|部颁法案"
)
_VOLUNTARY = re.compile(r"voluntary|voluntaire|voluntari|自愿|推荐性")


@dataclass(frozen=True, slots=True)
class Risk:
    level: Level
    points: int = 0
    reasons: list[Reason] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "level": self.level,
            "points": self.points,
            "reasons": [r.to_json() for r in self.reasons],
        }


def member_code(record: CanonicalRecord) -> str | None:
    """The notifying member's code: from the symbol when it reads, else from the name."""
    try:
        own = parse_symbol(record.symbol).member
    except SymbolError:
        own = None
    code = normalise_member(record.member, own).code
    return code or None  # members.py already reads EEC as EU


def comment_deadline(record: CanonicalRecord) -> date | None:
    """The comment deadline as a date: written, or 'N days after' the distribution date."""
    return parse_deadline(record.comment_deadline, parse_date(record.distribution_date)).date


def _market_points(record: CanonicalRecord, sector: str) -> tuple[int, Reason]:
    code = member_code(record)
    if code in HIGH_MARKETS or code in SECTOR_HIGH.get(sector, set()):
        return 2, Reason(ReasonKind.MARKET, code or "", strength="major")
    if code in MEDIUM_MARKETS:
        return 1, Reason(ReasonKind.MARKET, code or "", strength="significant")
    return 0, Reason(ReasonKind.MARKET, code or record.member, strength="smaller")


def _time_points(record: CanonicalRecord, today: date) -> tuple[int, list[Reason]]:
    reasons: list[Reason] = []
    points = 0
    deadline = comment_deadline(record)
    if deadline is not None:
        left = (deadline - today).days
        state = "closing" if 0 <= left <= 30 else "open" if left > 30 else "closed"
        points = int(state == "closing")
        reasons.append(
            Reason(
                ReasonKind.COMMENT_PERIOD,
                deadline.isoformat(),
                strength=state,
                detail={"days": str(left)},
            )
        )
    force = parse_date(record.proposed_entry_into_force)
    if force is not None and (force - today).days <= 180:
        points = 1
        reasons.append(Reason(ReasonKind.ENTRY_INTO_FORCE, force.isoformat()))
    return points, reasons


def assess(record: CanonicalRecord, sector: str, now: datetime) -> Risk:
    """Risk level for (measure, sector) at time ``now`` (timezone-aware UTC)."""
    text = normalise_text(
        " ".join(t for t in (record.title, record.products_text, record.description) if t)
    )
    points, market = _market_points(record, sector)
    reasons = [market]
    if _MANDATORY.search(text) and not _VOLUNTARY.search(text):
        points += 1
        reasons.append(Reason(ReasonKind.MANDATORY))
    else:
        reasons.append(Reason(ReasonKind.VOLUNTARY))
    t_points, t_reasons = _time_points(record, now.astimezone(UTC).date())
    points += t_points
    reasons += t_reasons
    for name, pts, rx in _KIND_RES:
        if rx.search(text):
            points += pts
            reasons.append(Reason(ReasonKind.MEASURE_KIND, name))
    level: Level = "red" if points >= RED else "amber" if points >= AMBER else "green"
    return Risk(level, points, reasons)
