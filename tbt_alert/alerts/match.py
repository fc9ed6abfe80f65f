"""Which subscriber must hear of which notification: a pure function, no database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tbt_alert.status import Cadence

# The exporters' own member: its notifications are not "exports at risk" for them, so they go
# only to subscribers who ask for this market by name.
HOME_MARKET = "CHN"


@dataclass(frozen=True)
class Interest:
    """One active subscription of an active subscriber."""

    subscriber_id: int
    sector: str
    markets: frozenset[str]  # member codes; empty = every market
    cadence: Cadence


@dataclass(frozen=True)
class Relevance:
    """What a notification offers to match against."""

    alert_sectors: frozenset[str]
    markets: frozenset[str]  # every member of a joint notification


def match(
    relevance: Relevance, interests: Iterable[Interest], cadence: Cadence = Cadence.IMMEDIATE
) -> dict[int, list[str]]:
    """Return subscriber id -> the sectors (sorted) through which the notification concerns them.

    A subscription counts when its cadence is the one asked for, its sector is among the
    notification's alert-tier sectors, and it covers one of the notification's markets; the home
    market (China) counts only for a subscription that lists it."""
    found: dict[int, set[str]] = {}
    home_only = bool(relevance.markets) and relevance.markets <= {HOME_MARKET}
    for interest in interests:
        if interest.cadence != cadence or interest.sector not in relevance.alert_sectors:
            continue
        if home_only and HOME_MARKET not in interest.markets:
            continue
        if interest.markets and not (interest.markets & relevance.markets):
            continue
        found.setdefault(interest.subscriber_id, set()).add(interest.sector)
    return {sid: sorted(sectors) for sid, sectors in sorted(found.items())}
