"""Risk of one measure for one sector: red, amber or green, with the reasons.

Points, from what exporters care about:

* market: Wenzhou's export weight there (EU and USA high for every sector, Russia too for footwear;
  other large markets medium) -> +2 / +1;
* mandatory regulation (vs voluntary standard) -> +1;
* time: comment window closing within 30 days, or entry into force within 180 days -> +1;
* kind: ban or restriction +2; testing and certification +1; labelling +0 (named as a reason).

red >= 5 points, amber >= 3, green below. Only the content's points and the dates are stored
(:func:`assess`); the time point and the level are worked out for the day a message or a list is
made (:meth:`Risk.at`), so a stored classification never goes stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from tbt_alert.classify.reasons import Reason, ReasonKind, reasons_from_json
from tbt_alert.record import CanonicalRecord, Facts
from tbt_alert.store.ingest import read_facts
from tbt_alert.store.shapes import RiskJSON
from tbt_alert.text.phrases import normalise_text

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
        # "ban" written as ban\b(?<=\bban): the same test as \bban\b, but opening with a plain
        # character as every alternative does, so the engine skips to the first characters
        r"ban\b(?<=\bban)|prohibit|restriction|restrict|limit values|maximum (?:permitted|"
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
_MANDATORY_WORDS = (
    "technical regulation",
    "mandatory",
    "compulsory",
    "regulations?",
    "decree",
    "executive order",
    "ministerial order",
    "control order",
    "quality control order",
    "reglamento",
    "règlement",
    "obligatoire",
    "obligatorio",
)
# each word as w(?<=\bw)ord\b: whole words, every alternative opening with a plain character
# (the engine then skips to the positions of the first characters)
_MANDATORY = re.compile(
    "|".join(f"{w[0]}(?<=\\b{w[0]}){w[1:]}\\b" for w in _MANDATORY_WORDS)
    + "|强制|法规|法令|法案|条例|部颁法案"
)
_VOLUNTARY = re.compile(r"voluntary|voluntaire|voluntari|自愿|推荐性")


@dataclass(frozen=True, slots=True)
class Risk:
    """What the measure's content says: points from market, legal status and kind of measure,
    with the dates that time will weigh (comment deadline, entry into force) as reasons. This is
    what is stored; the level depends on today too: see :meth:`at`.

    ``legacy_level``: a level stored by an earlier version (which stored levels, not points),
    shown as it was."""

    points: int = 0
    reasons: list[Reason] = field(default_factory=list)
    legacy_level: Level | None = None

    def to_json(self) -> RiskJSON:
        out: RiskJSON = {"points": self.points, "reasons": [r.to_json() for r in self.reasons]}
        if self.legacy_level is not None:
            out["level"] = self.legacy_level
        return out

    def at(self, today: date, deadline: date | None = None) -> RiskToday:
        """The level and the reasons as of ``today``. ``deadline``: the comment deadline to
        weigh (the notification's own, as stored); else the one the classifier read."""
        if self.legacy_level is not None:
            return RiskToday(self.legacy_level, self.points, list(self.reasons))
        reasons: list[Reason] = []
        soon = False
        for r in self.reasons:
            if r.kind == ReasonKind.COMMENT_PERIOD:
                day = deadline or date.fromisoformat(r.value)
                left = (day - today).days
                state = "closing" if 0 <= left <= 30 else "open" if left > 30 else "closed"
                soon |= state == "closing"
                reasons.append(
                    replace(r, value=day.isoformat(), strength=state, detail={"days": str(left)})
                )
            elif r.kind == ReasonKind.ENTRY_INTO_FORCE:
                if (date.fromisoformat(r.value) - today).days <= 180:
                    soon = True
                    reasons.append(r)
            else:
                reasons.append(r)
        points = self.points + int(soon)
        level: Level = "red" if points >= RED else "amber" if points >= AMBER else "green"
        return RiskToday(level, points, reasons)


@dataclass(frozen=True, slots=True)
class RiskToday:
    """A risk as shown on one day: never stored."""

    level: Level
    points: int
    reasons: list[Reason]


def risk_from_json(value: RiskJSON) -> Risk:
    """A stored risk (see ``store.shapes.RiskJSON``) as a :class:`Risk`. Earlier versions stored
    ``{"level", "reasons": [sentences]}``: read as a legacy level with legacy reasons."""
    reasons = reasons_from_json(value.get("reasons") or [])
    level = value.get("level")
    if "points" not in value or level is not None:
        legacy: Level = level if level in ("red", "amber", "green") else "amber"  # type: ignore[assignment]
        return Risk(value.get("points", 0), reasons, legacy)
    return Risk(value["points"], reasons)


def _market_points(facts: Facts, sector: str) -> tuple[int, Reason]:
    code = facts.member_code or None  # members.py already reads EEC as EU
    if code in HIGH_MARKETS or code in SECTOR_HIGH.get(sector, set()):
        return 2, Reason(ReasonKind.MARKET, code or "", strength="major")
    if code in MEDIUM_MARKETS:
        return 1, Reason(ReasonKind.MARKET, code or "", strength="significant")
    return 0, Reason(ReasonKind.MARKET, code or facts.member_name, strength="smaller")


def _dates(facts: Facts) -> list[Reason]:
    """The dates time will weigh, as facts (how near they are is worked out on the day shown)."""
    reasons = []
    deadline = facts.comment_deadline
    if deadline is not None:
        reasons.append(Reason(ReasonKind.COMMENT_PERIOD, deadline.isoformat()))
    force = facts.entry_into_force
    if force is not None:
        reasons.append(Reason(ReasonKind.ENTRY_INTO_FORCE, force.isoformat()))
    return reasons


def assess(
    record: CanonicalRecord,
    sector: str,
    facts: Facts | None = None,
    content: Content | None = None,
) -> Risk:
    """Risk points of (measure, sector) from the content alone; :meth:`Risk.at` adds the day.
    Member, deadline and entry into force are those ingest read (``facts``, else the record's own, else read the
    way ingest reads them). ``content``: :func:`content_points` of the record, when the caller
    has it (the same for every sector of a record)."""
    facts = facts or read_facts(record)
    content_pts, content_reasons = content or content_points(record)
    points, market = _market_points(facts, sector)
    return Risk(points + content_pts, [market, *content_reasons, *_dates(facts)])


Content = tuple[int, tuple[Reason, ...]]


def content_points(record: CanonicalRecord) -> Content:
    """The points and reasons the record's text gives whatever the sector: legal status (mandatory
    or voluntary) and the kinds of measure."""
    text = normalise_text(
        " ".join(t for t in (record.title, record.products_text, record.description) if t)
    )
    points = 0
    reasons = []
    if _MANDATORY.search(text) and not _VOLUNTARY.search(text):
        points += 1
        reasons.append(Reason(ReasonKind.MANDATORY))
    else:
        reasons.append(Reason(ReasonKind.VOLUNTARY))
    for name, pts, rx in _KIND_RES:
        if rx.search(text):
            points += pts
            reasons.append(Reason(ReasonKind.MEASURE_KIND, name))
    return points, tuple(reasons)
