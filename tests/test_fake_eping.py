"""The loopback ePing server, the item reconstruction and the bundled demo items."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date, timedelta
from typing import Any

import pytest

from tbt_alert.demo.eping_server import UNDATED, FakeEping, items_from_records, stable_id
from tbt_alert.demo.items_build import ANCHOR, DATA_DIR, ITEMS_FILE, WINDOW_DAYS, demo_items
from tbt_alert.demo.items_build import load_labelled as labelled_rows
from tbt_alert.record import CanonicalRecord, parse_record
from tbt_alert.sources.eping import map_item
from tbt_alert.text.symbols import is_placeholder, parse_symbol

CORE = (
    "footwear_leather",
    "apparel_textiles",
    "low_voltage_electrical",
    "pumps_valves",
    "auto_moto_parts",
    "toys_playground",
)


def labelled() -> list[CanonicalRecord]:
    return [parse_record(row) for row in labelled_rows() if row["title"] or row["description"]]


def collapsed(text: str | None) -> str | None:
    return " ".join(text.split()) or None if text else None


def dated_items(days: list[str]) -> list[dict[str, Any]]:
    return [
        {"id": n, "area": "TBT", "distributionDate": f"{day}T00:00:00+00:00"}
        for n, day in enumerate(days, start=1)
    ]


def get(server: FakeEping, path: str) -> tuple[int, Any]:
    url = server.base_url.replace("/api/v1/", path)
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def search(server: FakeEping, query: str) -> dict[str, Any]:
    status, body = get(server, f"/api/v1/azureSearch/getAll?{query}")
    assert status == 200
    return json.loads(body)


def test_filters_by_inclusive_date_range_and_pages() -> None:
    days = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]
    with FakeEping(dated_items(days)) as server:
        first = search(
            server,
            "distributionDateFrom=2026-01-02&distributionDateTo=2026-01-04"
            "&page=1&pageSize=2&sortBy=distributionDate&sortDirection=asc",
        )
        second = search(
            server,
            "distributionDateFrom=2026-01-02&distributionDateTo=2026-01-04&page=2&pageSize=2",
        )
        beyond = search(server, "distributionDateFrom=2026-01-02&page=9&pageSize=2")
        newest = search(server, "sortDirection=desc&pageSize=1")
        assert len(server.requests) == 4
        assert server.requests[0].query["pageSize"] == ["2"]
    assert first["totalCount"] == second["totalCount"] == 3
    assert [i["id"] for i in first["items"]] + [i["id"] for i in second["items"]] == [2, 3, 4]
    assert beyond["items"] == [] and beyond["totalCount"] == 4
    assert newest["items"][0]["id"] == 5


def test_domain_filter_separates_tbt_from_sps() -> None:
    items = [
        *dated_items(["2026-01-01"]),
        {"id": 9, "area": "SPS", "distributionDate": "2026-01-01"},
    ]
    with FakeEping(items) as server:
        assert [i["id"] for i in search(server, "domainIds=1")["items"]] == [1]
        assert [i["id"] for i in search(server, "domainIds=2")["items"]] == [9]


@pytest.mark.parametrize(
    "query", ["page=0", "pageSize=101", "pageSize=x", "distributionDateFrom=2026-13-01"]
)
def test_bad_parameters_get_400(query: str) -> None:
    with FakeEping([]) as server:
        status, body = get(server, f"/api/v1/azureSearch/getAll?{query}")
    assert status == 400 and "error" in json.loads(body)


def test_robots_allows_everything_and_unknown_paths_are_404() -> None:
    with FakeEping([]) as server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith(
            "/api/v1/"
        )
        status, body = get(server, "/robots.txt")
        assert status == 200 and b"Disallow:\n" in body and b"Disallow: /" not in body
        assert get(server, "/api/v1/nothing")[0] == 404


def test_items_are_reconstructed_with_the_documented_fields() -> None:
    record = parse_record(
        {
            "symbol": "G/TBT/N/ARE/703",
            "member": "United Arab Emirates",
            "title": 'Vehicles <"eCall">',
            "distribution_date": "2026-06-02",
            "comment_deadline": "2026-08-01",
            "ics_codes": ["43.020"],
            "hs_codes": ["870321", "87"],
            "products_text": "Road vehicles in general",
            "joint_symbols": ["G/TBT/N/ARE/703", "G/TBT/N/BHR/780"],
            "objective": "Harmonization (TBT), Quality requirements (TBT)",
            "document_links": ["https://a.example/1.pdf", "https://a.example/2.pdf"],
        }
    )
    item = items_from_records([record], as_of=date(2026, 7, 1))[0]
    assert item["id"] == stable_id("G/TBT/N/ARE/703")
    assert item["documentSymbol"] == "G/TBT/N/ARE/703, G/TBT/N/BHR/780"
    assert item["title"] == '<p style="margin:2px">Vehicles &lt;&quot;eCall&quot;&gt;</p>'
    assert item["distributionDate"] == "2026-06-02T00:00:00+00:00"
    assert item["productsFreeTextPlain"] == "Road vehicles in general (ICS code(s): 43.020)"
    assert [h["code"] for h in item["hsCodes"]] == ["870321"] and item["hsCodeText"] == "870321, 87"
    assert [o["name"] for o in item["objectives"]] == [
        "Harmonization (TBT)",
        "Quality requirements (TBT)",
    ]
    assert item["notifiedDocumentLink"] == "https://a.example/1.pdf\nhttps://a.example/2.pdf"
    assert item["isOpenForComments"] is True
    assert "_reconstruction" not in item


def test_unreadable_dates_are_served_on_the_fallback_day_and_kept_as_read() -> None:
    record = parse_record(
        {
            "symbol": "G/TBT/N/KOR/528",
            "member": "Korea",
            "title": "t",
            "distribution_date": None,
            "comment_deadline": "通报发布之后60天",
        }
    )
    item = items_from_records([record])[0]
    assert item["distributionDate"].startswith(UNDATED.isoformat())
    assert item["commentDeadlineDate"] is None and item["isOpenForComments"] is False
    assert item["_reconstruction"] == {
        "distributionDate": None,
        "commentDeadline": "通报发布之后60天",
    }


def test_every_labelled_record_round_trips_through_an_item() -> None:
    records = [r for r in labelled() if not is_placeholder(r.symbol)]
    items = items_from_records(records)
    assert items == items_from_records(records)  # deterministic
    assert len({i["id"] for i in items}) == len(records)
    for record, item in zip(records, items, strict=True):
        back = map_item(item)
        assert back.symbol == str(
            parse_symbol(record.joint_symbols[0] if record.joint_symbols else record.symbol)
        )
        assert (back.member, back.title) == (record.member, record.title)
        assert back.description == collapsed(record.description)
        assert {c for c in record.hs_codes if len(c) > 1} <= set(back.hs_codes)  # "8" is no code
        assert set(record.ics_codes) <= set(back.ics_codes)
        if record.distribution_date and len(record.distribution_date) == 10:
            assert back.distribution_date == record.distribution_date


def test_bundled_demo_items_are_current_and_honest() -> None:
    bundled = json.loads((DATA_DIR / ITEMS_FILE).read_text("utf-8"))
    meta = json.loads((DATA_DIR / "eping_demo_items.meta.json").read_text("utf-8"))
    assert bundled == demo_items(), "run python -m tbt_alert.demo.items_build"
    assert meta["reconstructed"] is True and meta["anchor_date"] == ANCHOR.isoformat()
    assert meta["count"] == len(bundled)
    first = (ANCHOR - timedelta(days=WINDOW_DAYS - 1)).isoformat()
    assert all(first <= i["distributionDate"][:10] <= ANCHOR.isoformat() for i in bundled)
    rows = {row["symbol"]: row for row in labelled_rows()}
    sectors = [
        rows[i["_reconstruction"]["from"].split("(")[1].rstrip(")")]["gold_sectors"]
        for i in bundled
    ]
    for sector in CORE:
        assert sum(sector in s for s in sectors) >= 3, sector
    assert sum(not s for s in sectors) >= 15
    assert sum("," in i["documentSymbol"] for i in bundled) >= 3
    assert sum("/Add." in i["documentSymbol"] for i in bundled) >= 2
    assert any(
        i["_reconstruction"]["distributionDate"] != i["distributionDate"][:10] for i in bundled
    )
