"""Build the bundled ePing demo items from real notifications: ``python -m tbt_alert.demo.items_build``.

No raw ePing body could be recorded (no internet), so the items are *reconstructed*: real
notifications from ``data/labelled.jsonl`` (titles, descriptions, members, codes as read) rebuilt into
ePing items by :func:`tbt_alert.demo.eping_server.items_from_records`. Their distribution dates are moved
into the 30 days before :data:`ANCHOR`, in their real order, so that ``tbt-alert demo`` can crawl
"the last 30 days"; each item keeps its real dates under ``_reconstruction``. The test pages of
``tests/fixtures/eping`` are built from these items by ``python -m tests.eping_pages_build``.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from tbt_alert.demo.eping_server import items_from_records
from tbt_alert.record import CanonicalRecord, parse_record

ANCHOR = date(2026, 9, 1)
WINDOW_DAYS = 30
DATA_DIR = Path(__file__).with_name("data")
ITEMS_FILE = "eping_demo_items.json"

# About 40 real notifications, by symbol: several per core sector (gold_sectors), many without a
# sector, joint notifications (GCC, EAC), addenda and revisions (three without a title, as real
# addenda often are), English, Spanish and Chinese text.
DEMO_SYMBOLS = (
    # apparel_textiles
    "G/TBT/N/SAU/996",
    "G/TBT/N/UKR/157",
    "G/TBT/N/COL/86",
    "G/TBT/N/KEN/1850",
    # auto_moto_parts (+ batteries)
    "G/TBT/N/BHR/172",
    "G/TBT/N/CHN/1320",
    "G/TBT/N/ARG/436",
    "G/TBT/N/BRA/312/Add.9",
    # footwear_leather
    "G/TBT/N/ZAF/61",
    "G/TBT/N/BRA/1591",
    "G/TBT/N/ECU/386",
    # low_voltage_electrical
    "G/TBT/N/USA/532",
    "G/TBT/N/KOR/692",
    "G/TBT/N/THA/480",
    "G/TBT/N/CHN/1792",
    "G/TBT/N/COL/20/Add.5",
    # pumps_valves
    "G/TBT/N/CHN/1359",
    "G/TBT/N/CHN/2182",
    "G/TBT/N/ISR/999",
    # toys_playground
    "G/TBT/N/TTO/121",
    "G/TBT/N/EU/504",
    "G/TBT/N/USA/1272/Rev.1",
    "G/TBT/N/CHE/261",
    "G/TBT/N/CHN/1269",
    # eyewear, lighters, locks, batteries
    "G/TBT/N/CHN/175",
    "G/TBT/N/TPKM/13",
    "G/TBT/N/TZA/586",
    "G/TBT/N/USA/518",
    # no Wenzhou sector
    "G/TBT/N/ARE/703",
    "G/TBT/N/SAU/1247",
    "G/TBT/N/EU/797",
    "G/TBT/N/SAU/1304",
    "G/TBT/N/SAU/1304/Rev.1",
    "G/TBT/N/ISR/1135",
    "G/TBT/N/SAU/1129",
    "G/TBT/N/SAU/1225",
    "G/TBT/N/ARE/461",
    "G/TBT/N/CHN/2106",
    "G/TBT/N/EGY/317/Add.1",
    "G/TBT/N/ISR/363",
    "G/TBT/N/BHR/173",
    "G/TBT/N/ARG/269",
    "G/TBT/N/CHN/1827",
    "G/TBT/N/KOR/528",
    "G/TBT/N/KEN/1419",
    "G/TBT/N/KEN/1500/Add.1",
)

# Real ePing links of two notifications, as stored by a public monitor of the ePing API
# (github.com/logationhomo/homologation-notification-monitor, state/state.json, commit 21d09705):
# linkToNotification, then notifiedDocumentLink.
KNOWN_LINKS: dict[str, tuple[str, str]] = {
    "G/TBT/N/ARE/703": (
        "https://docs.wto.org/imrd/directdoc.asp?DDFDocuments/T/G/TBTN26/ARE703.docx",
        "https://members.wto.org/crnattachments/2026/TBT/ARE/26_02883_00_e.pdf",
    ),
    "G/TBT/N/SAU/1304/Rev.1": (
        "https://docs.wto.org/imrd/directdoc.asp?DDFDocuments/T/G/TBTN23/SAU1304R1.DOCX",
        "https://members.wto.org/crnattachments/2023/TBT/SAU/23_13471_00_e.pdf",
    ),
}
_SIXTY_DAYS = re.compile(r"60\s*(?:days|天)", re.IGNORECASE)


def load_labelled() -> list[dict[str, Any]]:
    text = resources.files("tbt_alert.classify").joinpath("data/labelled.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def pick(rows: Sequence[dict[str, Any]], symbols: Sequence[str]) -> list[dict[str, Any]]:
    """The rows for ``symbols``, in that order; KeyError names a symbol that is not there."""
    by_symbol = {row["symbol"]: row for row in rows}
    missing = [s for s in symbols if s not in by_symbol]
    if missing:
        raise KeyError(f"not in labelled.jsonl: {', '.join(missing)}")
    return [by_symbol[s] for s in symbols]


def with_known_links(record: CanonicalRecord) -> CanonicalRecord:
    links = KNOWN_LINKS.get(record.symbol)
    if links is None:
        return record
    return replace(record, document_url=links[0], document_links=[links[1], links[0]])


def shifted_days(rows: Sequence[dict[str, Any]], anchor: date) -> list[date]:
    """New distribution days in the window before ``anchor``, spread in the rows' real order."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["distribution_date"] or "", i))
    first = anchor - timedelta(days=WINDOW_DAYS - 1)
    span = max(len(rows) - 1, 1)
    days = [first] * len(rows)
    for rank, index in enumerate(order):
        days[index] = first + timedelta(days=round(rank * (WINDOW_DAYS - 1) / span))
    return days


def shifted_deadline(row: dict[str, Any], day: date) -> tuple[date | None, str]:
    """The deadline moved with the distribution date, and the rule that was applied."""
    real_day, deadline = _day(row["distribution_date"]), _day(row["comment_deadline"])
    if real_day and deadline:
        return day + (deadline - real_day), "real interval kept"
    if _SIXTY_DAYS.search(str(row["comment_deadline"] or "")):
        return day + timedelta(days=60), "'60 days' as read, counted from the new date"
    return None, "no dated deadline as read: null"


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def demo_items(anchor: date = ANCHOR) -> list[dict[str, Any]]:
    rows = pick(load_labelled(), DEMO_SYMBOLS)
    items: list[dict[str, Any]] = []
    for row, day in zip(rows, shifted_days(rows, anchor), strict=True):
        deadline, rule = shifted_deadline(row, day)
        record = with_known_links(parse_record(row))
        record = replace(
            record,
            distribution_date=day.isoformat(),
            comment_deadline=deadline.isoformat() if deadline else None,
        )
        item = items_from_records([record], as_of=anchor)[0]
        if not row["title"]:  # as read: the record's stand-in title is not put into the item
            item.update(title=None, titlePlain=None)
        item["_reconstruction"] = {
            "from": f"tbt_alert/classify/data/labelled.jsonl ({row['symbol']})",
            "distributionDate": row["distribution_date"],
            "commentDeadline": row["comment_deadline"],
            "sourceUrl": row["source_url"],
            "dates": f"distribution date moved into the {WINDOW_DAYS} days before {anchor}; "
            f"deadline: {rule}",
        }
        items.append(item)
    return sorted(items, key=lambda i: (i["distributionDate"], i["id"]))


def demo_meta(items: Sequence[dict[str, Any]], anchor: date = ANCHOR) -> dict[str, Any]:
    return {
        "reconstructed": True,
        "from": "real WTO TBT notifications in tbt_alert/classify/data/labelled.jsonl, by symbol",
        "symbols": list(DEMO_SYMBOLS),
        "count": len(items),
        "fields": "ePing azureSearch/getAll item fields (those tbt_alert.sources.eping.map_item "
        "reads), built by tbt_alert.demo.eping_server.items_from_records",
        "anchor_date": anchor.isoformat(),
        "window_days": WINDOW_DAYS,
        "dates": "distribution dates moved into the window, keeping the real order; the real "
        "dates, the deadline rule and the page each notification was read from are in each "
        "item's _reconstruction object (not an ePing field; the mapper ignores it)",
        "links": "linkToNotification/notifiedDocumentLink are the page the notification was "
        "read from, except the real ePing links of G/TBT/N/ARE/703 and G/TBT/N/SAU/1304/Rev.1",
        "built_by": "python -m tbt_alert.demo.items_build",
        "built_on": date.today().isoformat(),
    }


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tbt_alert.demo.items_build")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    ns = parser.parse_args(argv)
    items = demo_items()
    write_json(ns.data_dir / ITEMS_FILE, items)
    write_json(ns.data_dir / ITEMS_FILE.replace(".json", ".meta.json"), demo_meta(items))
    print(f"wrote {len(items)} demo items to {ns.data_dir / ITEMS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
