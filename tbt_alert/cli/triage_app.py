"""``tbt-alert triage --interactive``: the queue in a Textual app, worked through with the keyboard.

Keys: n / down next, p / up previous, a accept, d dismiss, + add a sector, - remove a sector,
o open the document link, / search (empty: back to the queue), u undo, q quit. Every decision goes
through tbt_alert.triage.decisions, like the one-shot commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.engine import Engine
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input, Static

from tbt_alert.cli.tables import RISK_STYLE, marked, sector_names
from tbt_alert.errors import TbtAlertError
from tbt_alert.status import DecisionKind, ReviewMode
from tbt_alert.store.dbapi import Reader
from tbt_alert.store.engine import session_scope
from tbt_alert.store.queries import find_notification
from tbt_alert.triage.decisions import decisions_of, record, replay, undo_last
from tbt_alert.triage.effective import NotificationRow, effective_states
from tbt_alert.triage.queue import QueueItem, risk_of, triage_queue

Opener = Callable[[str], Any]


class TriageApp(App[None]):
    TITLE = "tbt-alert triage"
    CSS = """
    DataTable { height: 60%; }
    #detail { height: 1fr; padding: 0 1; border-top: solid $accent; }
    #prompt { dock: bottom; display: none; }
    #prompt.shown { display: block; }
    """
    BINDINGS: ClassVar[list[Any]] = [
        Binding("n,down", "move(1)", "next"),
        Binding("p,up", "move(-1)", "previous"),
        Binding("a", "decide('accept')", "accept"),
        Binding("d", "decide('dismiss')", "dismiss"),
        Binding("plus", "ask('add')", "+sector"),
        Binding("minus", "ask('remove')", "-sector"),
        Binding("o", "open_link", "open link"),
        Binding("slash", "ask('search')", "search"),
        Binding("u", "undo", "undo"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(
        self,
        engine: Engine,
        *,
        mode: ReviewMode,
        who: str,
        language: str = "en",
        sector_ids: tuple[str, ...] = (),
        opener: Opener | None = None,
    ) -> None:
        super().__init__()
        self.engine, self.mode, self.who, self.language = engine, mode, who, language
        self.sector_ids = sector_ids
        self.opener = opener or _browser
        self.items: list[QueueItem] = []
        self.snippets: dict[str, str] = {}
        self.asking: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield Static(id="detail")
        yield Input(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("symbol", "member", "risk", "deadline", "why", "title")
        self.load_queue()

    # --- data -----------------------------------------------------------------------------
    def load_queue(self, keep: str | None = None) -> None:
        with session_scope(self.engine) as session:
            self.items = triage_queue(
                Reader.of_session(session), self.mode, datetime.now(UTC).date()
            )
        self.snippets = {}
        self.show_items(keep)

    def show_items(self, keep: str | None = None) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for item in self.items:
            row = item.notification
            table.add_row(
                row.symbol,
                row.member_code,
                Text(item.risk or "-", style=RISK_STYLE.get(item.risk or "", "dim")),
                str(row.comment_deadline or "-"),
                ",".join(item.why),
                " ".join(row.title.split())[:80],
                key=row.symbol,
            )
        symbols = [i.notification.symbol for i in self.items]
        if keep in symbols:
            table.move_cursor(row=symbols.index(keep))
        self.sub_title = f"{len(self.items)} notification(s)"
        self.show_detail()

    @property
    def current(self) -> QueueItem | None:
        table = self.query_one(DataTable)
        if not self.items:
            return None
        return self.items[min(table.cursor_row, len(self.items) - 1)]

    def show_detail(self) -> None:
        item = self.current
        detail = self.query_one("#detail", Static)
        if item is None:
            detail.update("nothing to decide")
            return
        row, state = item.notification, item.state
        names = sector_names(self.language)
        text = Text()
        text.append(f"{row.symbol}  {row.member_name}\n", style="bold")
        text.append(" ".join(row.title.split()) + "\n")
        text.append("risk ")
        text.append(item.risk or "-", style=RISK_STYLE.get(item.risk or "", ""))
        text.append(f"   deadline {row.comment_deadline or '-'}   decision {state.status or '-'}")
        text.append(f"   assigned {state.assignee or '-'}\n")
        text.append("alert    " + (", ".join(names.get(s, s) for s in sorted(state.alert)) or "-"))
        text.append(
            "\npossible " + (", ".join(names.get(s, s) for s in sorted(state.possible)) or "-")
        )
        text.append(
            "\nlabels   " + (", ".join(names.get(s, s) for s in sorted(state.labels)) or "-")
        )
        text.append(f"\nlink     {row.document_url or '-'}\n")
        if row.symbol in self.snippets:
            text.append_text(marked(self.snippets[row.symbol]))
        detail.update(text)

    def refresh_item(self, symbol: str) -> None:
        """Re-read one notification's state after a decision (it stays in view)."""
        with session_scope(self.engine) as session:
            row = find_notification(session, symbol)
            if row is None:
                return
            state = replay(row, decisions_of(session, [row.id or 0]).get(row.id or 0, []))
        for n, item in enumerate(self.items):
            if item.notification.symbol == symbol:
                self.items[n] = QueueItem(
                    NotificationRow.of(row), state, item.why, risk_of(row, state)
                )
        self.show_detail()

    def decide(self, kind: DecisionKind, value: str = "") -> None:
        item = self.current
        if item is None:
            return
        symbol = item.notification.symbol
        try:
            with session_scope(self.engine) as session:
                row = find_notification(session, symbol)
                if row is not None:
                    record(session, row, kind, who=self.who, now=datetime.now(UTC), value=value)
        except TbtAlertError as e:
            self.notify(str(e), severity="error")
            return
        self.notify(f"{symbol}: {kind.value} {value}".strip())
        self.refresh_item(symbol)

    # --- actions --------------------------------------------------------------------------
    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def action_move(self, step: int) -> None:
        table = self.query_one(DataTable)
        if self.items:
            table.move_cursor(row=max(0, min(len(self.items) - 1, table.cursor_row + step)))
        self.show_detail()

    def action_decide(self, verdict: str) -> None:
        self.decide(DecisionKind(verdict))

    def action_undo(self) -> None:
        item = self.current
        if item is None:
            return
        try:
            with session_scope(self.engine) as session:
                row = find_notification(session, item.notification.symbol)
                if row is not None:
                    undo_last(session, row, now=datetime.now(UTC))
        except TbtAlertError as e:
            self.notify(str(e), severity="error")
            return
        self.refresh_item(item.notification.symbol)

    def action_open_link(self) -> None:
        item = self.current
        url = item.notification.document_url if item else None
        if not url:
            self.notify("no document link", severity="warning")
            return
        self.opener(url)

    def action_ask(self, what: str) -> None:
        prompt = self.query_one("#prompt", Input)
        self.asking = what
        prompt.placeholder = {
            "add": "sector id to add",
            "remove": "sector id to remove",
            "search": "search words (empty: back to the queue)",
        }[what]
        prompt.value = ""
        prompt.add_class("shown")
        prompt.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        prompt = self.query_one("#prompt", Input)
        prompt.remove_class("shown")
        self.query_one(DataTable).focus()
        what, value, self.asking = self.asking, event.value.strip(), None
        if what == "search":
            self.search(value)
        elif what in ("add", "remove") and value:
            if self.sector_ids and value not in self.sector_ids:
                self.notify(f"unknown sector {value!r}", severity="error")
                return
            self.decide(
                DecisionKind.LABEL_ADD if what == "add" else DecisionKind.LABEL_REMOVE, value
            )

    def search(self, words: str) -> None:
        if not words:
            self.load_queue()
            return
        from tbt_alert.triage.search import search

        with session_scope(self.engine) as session:
            reader = Reader.of_session(session)
            hits = search(reader, words, limit=200)
            states = effective_states(reader, [h.notification for h in hits])
        self.items = []
        for h in hits:
            state = states[h.notification.id or 0]
            self.items.append(
                QueueItem(h.notification, state, ("search",), risk_of(h.notification, state))
            )
        self.snippets = {h.notification.symbol: h.snippet for h in hits}
        self.show_items()


def _browser(url: str) -> None:
    import webbrowser

    webbrowser.open(url)


def run_app(obj: Any) -> None:
    """Start the app on the configured database (the CLI's context object)."""
    import getpass
    import os

    from tbt_alert.classify.rules import load_rules

    engine = obj.engine()
    try:
        TriageApp(
            engine,
            mode=ReviewMode(obj.config.review.mode),
            who=os.environ.get("USER") or getpass.getuser(),
            language=obj.config.terminal.language,
            sector_ids=load_rules().ids,
        ).run()
    finally:
        engine.dispose()
