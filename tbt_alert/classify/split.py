"""The frozen development/test split of the labelled notifications.

A record belongs to the test part when the first byte of
``sha256("tbt-alert/split/v2:" + symbol)`` is divisible by 3, otherwise to the development part.
The rule looks at the symbol only, never at content or labels, and was fixed before any rule was
edited against it. The split of the bundled data is committed as ``data/split.json`` (symbol ->
part); tests re-derive it from the rule. Rules, phrases and thresholds are edited looking at
development-part errors only; the test part is measured, never tuned on, and ``train`` keeps its
symbols out of the model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Literal

from tbt_alert.errors import TbtAlertError

Part = Literal["dev", "test"]
PARTS: tuple[Part, ...] = ("dev", "test")
SALT = "tbt-alert/split/v2:"
SPLIT_PATH = Path(__file__).resolve().parent / "data" / "split.json"


def part_of(symbol: str) -> Part:
    """The part a symbol belongs to, by the frozen rule (no file needed)."""
    digest = hashlib.sha256((SALT + symbol).encode("utf-8")).digest()
    return "test" if digest[0] % 3 == 0 else "dev"


def derive_split(symbols: Iterable[str]) -> dict[str, Part]:
    """symbol -> part for every symbol, sorted by symbol (the committed file's content)."""
    return {s: part_of(s) for s in sorted(set(symbols))}


@cache
def load_split(path: Path = SPLIT_PATH) -> dict[str, Part]:
    """The committed split (symbol -> part)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise TbtAlertError(f"{path}: cannot read the dev/test split: {e}") from e
    if not isinstance(data, dict) or not all(v in PARTS for v in data.values()):
        raise TbtAlertError(f"{path}: the split must map symbols to 'dev' or 'test'")
    return dict(data)


def held_symbols(path: Path = SPLIT_PATH) -> frozenset[str]:
    """Symbols of the committed test part: never trained on, never tuned on."""
    return frozenset(s for s, p in load_split(path).items() if p == "test")


def is_test(symbol: str) -> bool:
    """A symbol in the committed test part, or any unknown symbol the rule puts there."""
    return load_split().get(symbol, part_of(symbol)) == "test"
