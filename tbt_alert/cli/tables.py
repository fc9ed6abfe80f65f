"""Terminal output for analysts: rich tables (rich measures Chinese characters as two columns),
risk in colour, hits highlighted, sector names in the configured language."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from tbt_alert.triage.queue import QueueItem
    from tbt_alert.triage.search import Hit

RISK_STYLE = {"red": "bold red", "amber": "yellow", "green": "green"}


def console() -> Console:
    from rich.console import Console

    width = shutil.get_terminal_size((160, 24)).columns
    return Console(width=max(width, 100), highlight=False, soft_wrap=False)


@cache
def sector_names(language: str) -> dict[str, str]:
    """Sector id -> its name in ``language`` ("zh" or "en"); the id itself when unnamed."""
    from tbt_alert.classify.rules import load_rules

    rules = load_rules()
    return {s.id: (s.name_zh if language == "zh" else s.name_en) or s.id for s in rules.sectors}


def sectors_text(ids: Iterable[str], language: str) -> str:
    names = sector_names(language)
    return ", ".join(names.get(i, i) for i in sorted(ids)) or "-"


def risk_text(level: str | None) -> Text:
    from rich.text import Text

    return Text(level or "-", style=RISK_STYLE.get(level or "", "dim"))


def marked(snippet: str) -> Text:
    """A snippet whose hits are between the index's markers, hits in bold reverse."""
    from rich.text import Text

    from tbt_alert.triage.search import MARK_END, MARK_START

    out = Text()
    for n, part in enumerate(snippet.replace(MARK_END, MARK_START).split(MARK_START)):
        out.append(part, style="bold reverse" if n % 2 else "")
    return out


def plain_snippet(snippet: str) -> str:
    from tbt_alert.triage.search import MARK_END, MARK_START

    return snippet.replace(MARK_START, "«").replace(MARK_END, "»")


def queue_table(items: Sequence[QueueItem], language: str) -> None:
    from rich.table import Table

    table = Table(title=f"triage queue: {len(items)} to decide", expand=False)
    for name in ("symbol", "member", "risk", "deadline", "why", "sectors", "assignee", "title"):
        table.add_column(name, no_wrap=name in ("symbol", "deadline", "risk"))
    for item in items:
        row = item.notification
        possible = item.state.possible - item.state.removed - item.state.alert
        sectors = sectors_text(item.state.labels - possible, language)
        if possible:
            sectors += " | ?" + sectors_text(possible, language)
        table.add_row(
            row.symbol,
            row.member_code,
            risk_text(item.risk),
            row.comment_deadline.isoformat() if row.comment_deadline else "-",
            ",".join(item.why),
            sectors,
            item.state.assignee or "-",
            " ".join(row.title.split())[:90],
        )
    console().print(table)


def hits_table(hits: Sequence[Hit], language: str) -> None:
    from rich.table import Table

    table = Table(title=f"{len(hits)} hit(s)", show_lines=True)
    for name in ("symbol", "member", "date", "sectors", "found"):
        table.add_column(name, no_wrap=name in ("symbol", "date"))
    for hit in hits:
        row = hit.notification
        table.add_row(
            row.symbol,
            row.member_code,
            row.distribution_date.isoformat() if row.distribution_date else "-",
            sectors_text(row.alert_sectors, language),
            marked(hit.snippet),
        )
    console().print(table)


def counts_table(title: str, counts: Sequence[tuple[str, int]]) -> None:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("key")
    table.add_column("notifications", justify="right")
    for key, n in counts:
        table.add_row(key, str(n))
    console().print(table)
