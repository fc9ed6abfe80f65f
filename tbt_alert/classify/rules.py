"""Load and validate ``rules/sectors.yaml`` into typed, immutable rules.

Every problem raises :class:`RulesError` naming the file and the entry (``sector 'eyewear'``,
``cross_cutting 'ecodesign_energy'``) so an analyst editing the YAML sees at once what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tbt_alert.errors import RulesError
from tbt_alert.resources import resource_dir
from tbt_alert.text.phrases import phrase_key

DEFAULT_RULES_PATH = resource_dir("rules") / "sectors.yaml"
LANGS = ("en", "fr", "es", "zh", "pt", "vi", "ru", "ar", "ko", "ja", "th")
PRIORITIES = ("core", "secondary", "emerging", "optional")
HS_RE = re.compile(r"^(\d{2}|\d{4}|\d{6})$")
ICS_RE = re.compile(r"^\d{2}(\.\d{3}(\.\d{2})?)?$")
SECTOR_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")

TOP_KEYS = {
    "version",
    "hs_edition",
    "ics_edition",
    "matching",
    "weights",
    "thresholds",
    "sectors",
    "cross_cutting",
}
SECTOR_KEYS = {
    "id",
    "name_en",
    "name_zh",
    "priority",
    "hs",
    "ics",
    "hs_weak",
    "ics_weak",
    "notes",
    "weak_keywords",
    "why",
}
SECTOR_KEYS |= {f"keywords_{lang}" for lang in LANGS}
SECTOR_KEYS |= {f"negative_keywords_{lang}" for lang in LANGS}
CROSS_KEYS = {"id", "fan_out", "horizontal", "no_sector", "scope_in_text", "note", "why"} | {
    f"triggers_{lang}" for lang in LANGS
}
WEIGHT_KEYS = {
    "hs_strong",
    "hs_weak",
    "hs_retrieved",
    "ics_strong",
    "ics_weak",
    "keyword_title",
    "keyword_body",
    "weak_keyword",
    "cross_cutting_title",
    "cross_cutting_body",
}
THRESHOLD_KEYS = {
    "alert",
    "possible",
    "model_alert",
    "model_possible",
    "model_confirm",
    "rules_confirm",
}


@dataclass(frozen=True, slots=True)
class Sector:
    id: str
    name_en: str
    name_zh: str
    priority: str
    hs: tuple[str, ...]
    ics: tuple[str, ...]
    hs_weak: tuple[str, ...] = ()
    ics_weak: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    weak_keywords: tuple[str, ...] = ()
    negatives: tuple[str, ...] = ()

    @property
    def core(self) -> bool:
        return self.priority == "core"


@dataclass(frozen=True, slots=True)
class CrossCutting:
    id: str
    triggers: tuple[str, ...]
    fan_out: tuple[tuple[str, tuple[str, ...]], ...]  # (product phrase, sectors it reaches)
    horizontal: bool = False
    # a field that usually concerns no sector (sectors.md rule 5: medical devices, foods,
    # cosmetics, radio equipment ...): named in the title, it weighs down evidence the title's
    # own product phrases do not give
    no_sector: bool = False
    # a trigger in the title names no product but says the text names them (a substance
    # restriction lists its articles: sectors.md rule 2); the description is then the scope
    scope_in_text: bool = False


@dataclass(frozen=True, slots=True)
class Rules:
    path: Path
    version: str
    sectors: tuple[Sector, ...]
    cross_cutting: tuple[CrossCutting, ...]
    weights: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    # entry id -> {phrase as written: the domain reason it is kept}; not used for scoring
    why: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def sector(self, sector_id: str) -> Sector:
        for s in self.sectors:
            if s.id == sector_id:
                return s
        raise KeyError(sector_id)

    @property
    def core_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sectors if s.core)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sectors)


def load_rules(path: Path | None = None) -> Rules:
    """Read and validate the rules file; raise RulesError naming the file and the entry."""
    path = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        # libyaml's safe loader when installed: the same documents, ten times faster to read
        # (every command that names sectors reads this file)
        if getattr(yaml, "__with_libyaml__", False):
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        else:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise RulesError(f"{path}: cannot read rules file: {e}") from e
    except yaml.YAMLError as e:
        raise RulesError(f"{path}: not valid YAML: {e}") from e
    return parse_rules(data, path)


def parse_rules(data: Any, path: Path) -> Rules:
    if not isinstance(data, dict):
        raise RulesError(f"{path}: the rules file must be a mapping at top level")
    _check_keys(data, TOP_KEYS, path, "top level")
    sectors = tuple(_sector(entry, path, i) for i, entry in enumerate(_list(data, "sectors", path)))
    ids = [s.id for s in sectors]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RulesError(f"{path}: duplicate sector id(s): {', '.join(dupes)}")
    cross = tuple(
        _cross(entry, path, i, set(ids)) for i, entry in enumerate(data.get("cross_cutting") or [])
    )
    why = {
        str(entry["id"]): _why(entry, path)
        for entry in [*data["sectors"], *(data.get("cross_cutting") or [])]
        if entry.get("why")
    }
    return Rules(
        path=path,
        version=str(data.get("version", "")),
        sectors=sectors,
        cross_cutting=cross,
        why=why,
        weights=_numbers(data.get("weights") or {}, WEIGHT_KEYS, path, "weights"),
        thresholds=_numbers(data.get("thresholds") or {}, THRESHOLD_KEYS, path, "thresholds"),
    )


def _list(data: dict[str, Any], key: str, path: Path) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise RulesError(f"{path}: '{key}' must be a non-empty list")
    return value


def _check_keys(entry: dict[str, Any], allowed: set[str], path: Path, where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise RulesError(
            f"{path}: {where}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _strings(entry: dict[str, Any], key: str, path: Path, where: str) -> tuple[str, ...]:
    value = entry.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RulesError(f"{path}: {where}: '{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _codes(
    entry: dict[str, Any], key: str, pattern: re.Pattern[str], path: Path, where: str
) -> tuple[str, ...]:
    codes = _strings(entry, key, path, where)
    for code in codes:
        if not pattern.match(code):
            kind = "HS" if key.startswith("hs") else "ICS"
            raise RulesError(
                f"{path}: {where}: malformed {kind} code {code!r} in '{key}' "
                f"(expected {'2, 4 or 6 digits' if kind == 'HS' else 'NN.NNN.NN'})"
            )
    return codes


def _sector(entry: Any, path: Path, index: int) -> Sector:
    if not isinstance(entry, dict):
        raise RulesError(f"{path}: sectors[{index}]: each sector must be a mapping")
    sid = entry.get("id")
    if not isinstance(sid, str) or not SECTOR_ID_RE.match(sid):
        raise RulesError(f"{path}: sectors[{index}]: 'id' must be a snake_case string, got {sid!r}")
    where = f"sector {sid!r}"
    _check_keys(entry, SECTOR_KEYS, path, where)
    for key in ("name_en", "name_zh"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise RulesError(f"{path}: {where}: '{key}' is required")
    if entry.get("priority") not in PRIORITIES:
        raise RulesError(f"{path}: {where}: 'priority' must be one of {', '.join(PRIORITIES)}")
    keywords = sum((_strings(entry, f"keywords_{lang}", path, where) for lang in LANGS), ())
    negatives = sum(
        (_strings(entry, f"negative_keywords_{lang}", path, where) for lang in LANGS), ()
    )
    return Sector(
        id=sid,
        name_en=entry["name_en"],
        name_zh=entry["name_zh"],
        priority=entry["priority"],
        hs=_codes(entry, "hs", HS_RE, path, where),
        ics=_codes(entry, "ics", ICS_RE, path, where),
        hs_weak=_codes(entry, "hs_weak", HS_RE, path, where),
        ics_weak=_codes(entry, "ics_weak", ICS_RE, path, where),
        keywords=keywords,
        weak_keywords=_strings(entry, "weak_keywords", path, where),
        negatives=negatives,
    )


def _cross(entry: Any, path: Path, index: int, sector_ids: set[str]) -> CrossCutting:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise RulesError(f"{path}: cross_cutting[{index}]: must be a mapping with an 'id'")
    where = f"cross_cutting {entry['id']!r}"
    _check_keys(entry, CROSS_KEYS, path, where)
    triggers = sum((_strings(entry, f"triggers_{lang}", path, where) for lang in LANGS), ())
    fan = entry.get("fan_out") or {}
    if not isinstance(fan, dict):
        raise RulesError(f"{path}: {where}: 'fan_out' must map product phrases to sector ids")
    pairs = []
    for phrase, targets in fan.items():
        if not isinstance(targets, list) or not targets:
            raise RulesError(f"{path}: {where}: fan_out {phrase!r} must list sector ids")
        bad = [t for t in targets if t not in sector_ids]
        if bad:
            raise RulesError(
                f"{path}: {where}: fan_out {phrase!r} names unknown sector(s) "
                f"{', '.join(map(str, bad))}"
            )
        pairs.append((str(phrase), tuple(targets)))
    no_sector = bool(entry.get("no_sector", False))
    if no_sector and (pairs or entry.get("horizontal")):
        raise RulesError(
            f"{path}: {where}: a 'no_sector' entry names a field that concerns no sector: "
            "it takes no 'fan_out' and is not 'horizontal'"
        )
    return CrossCutting(
        id=entry["id"],
        triggers=triggers,
        fan_out=tuple(pairs),
        horizontal=bool(entry.get("horizontal", False)),
        no_sector=no_sector,
        scope_in_text=bool(entry.get("scope_in_text", False)),
    )


def _why(entry: dict[str, Any], path: Path) -> dict[str, str]:
    """The entry's ``why`` mapping: every phrase it names must be one of the entry's phrases."""
    kind = "cross_cutting" if {"fan_out", "horizontal", "no_sector"} & set(entry) else "sector"
    where = f"{kind} {entry['id']!r}"
    why = entry.get("why")
    if not isinstance(why, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in why.items()
    ):
        raise RulesError(f"{path}: {where}: 'why' must map phrases to non-empty reasons")
    phrases: set[str] = set()
    for key, value in entry.items():
        if (
            key.startswith(("keywords_", "negative_keywords_", "triggers_"))
            or key == "weak_keywords"
        ):
            phrases |= {phrase_key(v) for v in value or [] if isinstance(v, str)}
    phrases |= {phrase_key(str(k)) for k in (entry.get("fan_out") or {})}
    unknown = sorted(k for k in why if phrase_key(k) not in phrases)
    if unknown:
        raise RulesError(
            f"{path}: {where}: 'why' names phrase(s) the entry does not have: "
            f"{', '.join(map(repr, unknown))}"
        )
    return {str(k): str(v) for k, v in why.items()}


def _numbers(values: Any, allowed: set[str], path: Path, where: str) -> dict[str, float]:
    if not isinstance(values, dict):
        raise RulesError(f"{path}: '{where}' must be a mapping")
    _check_keys(values, allowed, path, where)
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RulesError(f"{path}: {where}: {key!r} must be a number, got {value!r}")
        out[key] = float(value)
    missing = sorted(allowed - set(out))
    if missing:
        raise RulesError(f"{path}: {where}: missing key(s) {', '.join(missing)}")
    return out
