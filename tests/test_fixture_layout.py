"""Fixture folders are named by source slug, and every fixture carries its provenance."""

from __future__ import annotations

import json
from pathlib import Path

from tbt_alert.crawl.targets import SOURCES

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = {"hostile", "pages"}  # hostile responses for any source; copies of real pages


def test_one_folder_per_source_slug():
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders - SHARED == set(SOURCES)


def test_every_fixture_has_a_provenance_file():
    missing = []
    for path in FIXTURES.rglob("*"):
        if path.is_dir() or path.name.endswith(".meta.json") or path.name == "README.md":
            continue
        meta = path.with_name(path.name.rsplit(".", 1)[0] + ".meta.json")
        if not meta.exists():
            missing.append(str(path.relative_to(FIXTURES)))
            continue
        told = json.loads(meta.read_text("utf-8"))
        assert {"url", "source", "built_by", "built_from"} & set(told), meta
    assert missing == []
