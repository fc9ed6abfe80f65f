"""Write tests/fixtures/eping/: ``python -m tests.eping_pages_build``.

Pages in the shape of ePing ``azureSearch/getAll`` responses, reconstructed from the bundled demo
items (themselves real notifications from tbt_alert/classify/data/labelled.jsonl, see
tbt_alert/demo/data/eping_demo_items.meta.json). Every page has a ``.meta.json`` with the URL it stands
for, the date, the response headers and status, ``"reconstructed": true``, and the symbols used.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

from tbt_alert.demo.items_build import demo_items

HERE = Path(__file__).parent / "fixtures" / "eping"
BASE = "https://epingalert.org/api/v1/azureSearch/getAll"
QUERY = "language=1&domainIds=1&distributionDateFrom=2026-08-03&distributionDateTo=2026-09-01"
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
MAINTENANCE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ePing - Scheduled maintenance</title></head>
<body><h1>ePing is undergoing scheduled maintenance</h1>
<p>The service will be back shortly. We apologise for any inconvenience.</p></body></html>
"""


def english_items() -> list[dict[str, Any]]:
    """Demo items in English with a single symbol, without the reconstruction notes."""
    out = []
    for item in demo_items():
        title = item["titlePlain"] or ""
        if "," in item["documentSymbol"] or not title or not title.isascii():
            continue
        item = copy.deepcopy(item)
        item.pop("_reconstruction", None)
        out.append(item)
    return out


def body(items: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {"items": items, "totalCount": total, "isCountExceeded": False}


def without_plain(item: dict[str, Any]) -> dict[str, Any]:
    """Only the HTML fields, so the mapper's HTML path is exercised."""
    for key in ("titlePlain", "descriptionPlain", "productsFreeTextPlain"):
        item.pop(key, None)
    return item


NO_TEXT = {
    "description": None,
    "descriptionPlain": None,
    "productsFreeText": None,
    "productsFreeTextPlain": None,
}


def broken(item: dict[str, Any], how: int) -> dict[str, Any]:
    """Eight ways for an item to lack its symbol, member or title."""
    item = copy.deepcopy(item)
    changes: list[dict[str, Any]] = [
        {"title": None, "titlePlain": None, **NO_TEXT},
        {"notifyingMember": None},
        {"documentSymbol": " "},
        {"documentSymbol": None},
        {"title": "<p><script>alert(1)</script></p>", "titlePlain": "", **NO_TEXT},
        {"notifyingMember": "   "},
        {"title": {"text": "drifted"}, "titlePlain": None},
        {"documentSymbol": " , ", "notifyingMember": ""},
    ]
    item.update(changes[how % len(changes)])
    return item


def pages() -> dict[str, tuple[Any, str, list[str]]]:
    """name -> (content, note, symbols)."""
    items = english_items()
    first, second = (
        items[:10],
        [without_plain(i) if n < 3 else i for n, i in enumerate(items[10:15])],
    )
    joint = [copy.deepcopy(i) for i in demo_items() if "," in i["documentSymbol"]]
    for item in joint:
        item.pop("_reconstruction", None)
    one_bad = [*items[:9], broken(items[9], 0)]
    eight_bad = [*items[:2], *(broken(i, n) for n, i in enumerate(items[2:10]))]
    page_1 = json.dumps(body(first, 15), ensure_ascii=False, indent=1)
    return {
        "page_1.json": (body(first, 15), "first of two pages (pageSize=10)", _symbols(first)),
        "page_2.json": (
            body(second, 15),
            "second page; 3 items carry HTML fields only",
            _symbols(second),
        ),
        "joint.json": (body(joint, len(joint)), "joint (GCC) notifications", _symbols(joint)),
        "broken_1_of_10.json": (
            body(one_bad, 10),
            "the last item has no title, description or products text",
            _symbols(one_bad),
        ),
        "broken_8_of_10.json": (
            body(eight_bad, 10),
            "items 3-10 lack symbol, member or title",
            _symbols(eight_bad),
        ),
        "truncated.json": (page_1[: len(page_1) // 2], "page_1.json cut in half", _symbols(first)),
        "maintenance.html": (
            MAINTENANCE,
            "an HTML maintenance page served with status 200 (synthetic: no copy of a real one)",
            [],
        ),
    }


def _symbols(items: list[dict[str, Any]]) -> list[str]:
    return [str(i.get("documentSymbol")) for i in items]


def meta(name: str, note: str, symbols: list[str]) -> dict[str, Any]:
    page = 2 if name == "page_2.json" else 1
    headers = (
        {"Content-Type": "text/html; charset=utf-8"} if name.endswith(".html") else JSON_HEADERS
    )
    return {
        "url": f"{BASE}?{QUERY}&page={page}&pageSize=10&sortBy=distributionDate&sortDirection=asc",
        "date": date.today().isoformat(),
        "status": 200,
        "headers": headers,
        "reconstructed": True,
        "from": "tbt_alert/demo/data/eping_demo_items.json (real notifications of labelled.jsonl)",
        "symbols": symbols,
        "note": note,
    }


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for name, (content, note, symbols) in pages().items():
        text = (
            content
            if isinstance(content, str)
            else json.dumps(content, ensure_ascii=False, indent=1)
        )
        (HERE / name).write_text(text, "utf-8")
        meta_path = HERE / (name.rsplit(".", 1)[0] + ".meta.json")
        meta_path.write_text(json.dumps(meta(name, note, symbols), indent=1) + "\n", "utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
