"""WTO TBT document symbols: tolerant when reading, strict in what is returned.

Forms read (case, spacing and the dot before a suffix number do not matter):

* ``G/TBT/N/<MEMBER>/<n>`` with MEMBER an ISO alpha-3 code, ``EU``, ``EEC`` or ``TPKM``, then any of
  ``/Rev.n``, ``/Add.n``, ``/Corr.n``, ``/Suppl.n`` in order (``.../Rev.1/Add.2``).
* 1995-2000 forms ``G/TBT/Notif.97.323`` (years 95-99, dot) and ``G/TBT/Notif.00/015`` (2000,
  slash, serial padded to three digits); the canonical form follows those conventions.
* Artefacts of real pages: ``G/TB/N/BHR/172``, ``G/TBT/N?BHR/173``, back-slashes, full-width
  characters (``／``, ``．``), ideographic full stops, zero-width spaces, a trailing ``号``.

Refused with :class:`SymbolError` (the message quotes the input):

* Code of Good Practice symbols ``G/TBT/CS/N/...`` (:class:`CodeOfGoodPracticeError`, a subclass):
  they announce standardizing bodies, not product regulations.
* ``NOSYMBOL-nnn`` ids that our data uses for items without a WTO symbol: they are not symbols.
  Callers keep such ids as they are (see :func:`is_placeholder`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Literal

from tbt_alert.errors import SymbolError


class CodeOfGoodPracticeError(SymbolError):
    """A ``G/TBT/CS/N/...`` symbol: a standardizing body's acceptance, not a product measure."""


Kind = Literal["regular", "addendum", "revision", "corrigendum", "supplement"]
SUFFIX_KINDS: dict[str, Kind] = {
    "Rev": "revision",
    "Add": "addendum",
    "Corr": "corrigendum",
    "Suppl": "supplement",
}
_SPELLINGS = {
    "REV": "Rev",
    "ADD": "Add",
    "CORR": "Corr",
    "COR": "Corr",
    "SUPPL": "Suppl",
    "SUPP": "Suppl",
    "SUP": "Suppl",
}
MAX_SYMBOL_TEXT = 200  # characters; a longer "symbol" is not one

_TRANSLATE = str.maketrans(
    {
        "\\": "/",
        "?": "/",
        "∕": "/",
        "⁄": "/",
        "╱": "/",
        "。": ".",
        "・": ".",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
        "\u00ad": None,
    }
)
_SEP = r" ?/ ?"
_HEAD = rf"G{_SEP}T ?B ?T?{_SEP}"
_SUFFIX = r"(?: ?/? ?(?:SUPPL|SUPP|SUP|CORR|COR|REV|ADD) ?\.? ?[0-9]{1,3}(?![0-9]))"
_REGULAR = rf"{_HEAD}N{_SEP}(?P<member>[A-Z]{{2,4}}){_SEP}(?P<number>[0-9]{{1,5}})(?![0-9])(?P<rsuf>{_SUFFIX}*)"
_OLD = rf"{_HEAD}NOTIF ?\.? ?(?P<year>[0-9]{{2}}) ?[./] ?(?P<serial>[0-9]{{1,4}})(?![0-9])(?P<osuf>{_SUFFIX}*)"
_SYMBOL_RE = re.compile(rf"{_OLD}|{_REGULAR}")
_SUFFIX_PART_RE = re.compile(r"(SUPPL|SUPP|SUP|CORR|COR|REV|ADD) ?\.? ?([0-9]{1,3})")
_CS_RE = re.compile(rf"{_HEAD}CS{_SEP}")
_PLACEHOLDER_RE = re.compile(r"\s*NOSYMBOL-[0-9]+\s*", re.IGNORECASE)
_JOINT_SPLIT_RE = re.compile(r"[,;\n\r、]+")
_STRIP = " .,;:'\"“”‘’()[]<>《》「」【】号號"

_MEMBER_RE = re.compile(r"[A-Z]{3}|EU|TPKM")
_NUMBER_RE = re.compile(r"[1-9][0-9]{0,4}")
_OLD_NUMBER_RE = re.compile(r"9[5-9]\.[1-9][0-9]{0,3}|00/(?!000)(?:[0-9]{3}|[1-9][0-9]{3})")


@dataclass(frozen=True)
class Symbol:
    """One WTO TBT document; construct with :func:`parse_symbol` (direct construction is checked)."""

    member: str | None
    number: str
    old_form: bool = False
    suffixes: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        _check(self)

    def __str__(self) -> str:
        return self.canonical

    @property
    def canonical(self) -> str:
        head = (
            f"G/TBT/Notif.{self.number}"
            if self.old_form
            else f"G/TBT/N/{self.member}/{self.number}"
        )
        return head + "".join(f"/{name}.{n}" for name, n in self.suffixes)

    @property
    def base(self) -> Symbol:
        """The original notification of the measure: no suffixes."""
        return replace(self, suffixes=())

    @property
    def parent(self) -> Symbol | None:
        """The document this one amends (the last suffix removed); None for a regular notification."""
        return replace(self, suffixes=self.suffixes[:-1]) if self.suffixes else None

    @property
    def kind(self) -> Kind:
        """By the last suffix: ``.../Add.1/Corr.1`` is a corrigendum."""
        return SUFFIX_KINDS[self.suffixes[-1][0]] if self.suffixes else "regular"

    @property
    def is_addendum(self) -> bool:
        return self.kind == "addendum"

    @property
    def is_revision(self) -> bool:
        return self.kind == "revision"

    @property
    def is_corrigendum(self) -> bool:
        return self.kind == "corrigendum"


def _check(symbol: Symbol) -> None:
    if symbol.old_form:
        ok = symbol.member is None and bool(_OLD_NUMBER_RE.fullmatch(symbol.number))
    else:
        ok = (
            symbol.member is not None
            and bool(_MEMBER_RE.fullmatch(symbol.member))
            and bool(_NUMBER_RE.fullmatch(symbol.number))
        )
    if not ok:
        raise SymbolError(
            f"invalid symbol parts: member={symbol.member!r} number={symbol.number!r}"
        )
    names = [name for name, _ in symbol.suffixes]
    if len(set(names)) != len(names):
        raise SymbolError(f"a suffix kind appears twice in {symbol.suffixes!r}")
    for name, n in symbol.suffixes:
        if (
            name not in SUFFIX_KINDS
            or isinstance(n, bool)
            or not isinstance(n, int)
            or not 0 < n < 1000
        ):
            raise SymbolError(
                f"invalid suffix {name!r}.{n!r}: use Rev, Add, Corr or Suppl and 1-999"
            )


def _quote(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _normalise(text: str) -> str:
    """Fold the artefacts of real pages away; keep newlines, collapse other whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE).upper()
    return re.sub(r"[^\S\n]+", " ", text)


def is_placeholder(text: str) -> bool:
    """True for our own ``NOSYMBOL-nnn`` ids, which callers keep as they are."""
    return bool(_PLACEHOLDER_RE.fullmatch(text))


def _build(match: re.Match[str]) -> Symbol:
    if match.group("year") is not None:
        year, serial = match.group("year"), int(match.group("serial"))
        number = f"00/{serial:03d}" if year == "00" else f"{year}.{serial}"
        member, old, raw = None, True, match.group("osuf")
    else:
        member, old, raw = match.group("member"), False, match.group("rsuf")
        number = str(int(match.group("number")))
    suffixes = tuple((_SPELLINGS[k], int(n)) for k, n in _SUFFIX_PART_RE.findall(raw))
    return Symbol(member=member, number=number, old_form=old, suffixes=suffixes)


def parse_symbol(text: str) -> Symbol:
    """Read one symbol; raise SymbolError quoting the input when it is not a product notification."""
    if not isinstance(text, str):
        raise SymbolError(f"a symbol must be text, got {type(text).__name__}")
    if len(text) > MAX_SYMBOL_TEXT:
        raise SymbolError(f"text too long to be a WTO symbol: {_quote(text)}")
    if is_placeholder(text):
        raise SymbolError(f"{_quote(text)} is a placeholder id, not a WTO symbol; keep it as-is")
    clean = re.sub(r"\s+", " ", _normalise(text)).strip(_STRIP)
    if _CS_RE.match(clean):
        raise CodeOfGoodPracticeError(
            f"{_quote(text)} is a Code of Good Practice notification, not a product notification"
        )
    match = _SYMBOL_RE.fullmatch(clean)
    if match is None:
        raise SymbolError(f"cannot read a WTO TBT symbol in {_quote(text)}")
    try:
        return _build(match)
    except SymbolError as e:
        raise SymbolError(f"cannot read a WTO TBT symbol in {_quote(text)}: {e}") from e


def split_joint(text: str) -> list[Symbol]:
    """Read a comma, semicolon or newline separated list; empties skipped, duplicates dropped."""
    pieces = _JOINT_SPLIT_RE.split(unicodedata.normalize("NFKC", text))
    found = [parse_symbol(piece) for piece in pieces if piece.strip(_STRIP)]
    return list(dict.fromkeys(found))


def find_symbols(text: str) -> list[Symbol]:
    """Every product-notification symbol mentioned in free text, in order of first mention."""
    found: list[Symbol] = []
    for match in _SYMBOL_RE.finditer(_normalise(text)):
        try:
            found.append(_build(match))
        except SymbolError:
            continue
    return list(dict.fromkeys(found))


def symbol_keys(symbol: str) -> tuple[str, str | None]:
    """(the symbol, normalised; its parent measure's symbol, for an addendum, revision or
    corrigendum, else None) in any spelling: '.../ADD.1/Corr.1' -> (..., the base symbol)."""
    try:
        parsed = parse_symbol(symbol)
    except SymbolError:
        # a symbol of no WTO shape (a national reference, a record's own id): its trailing
        # /Add.N, /Rev.N, /Corr.N, /Suppl.N still name the measure it amends
        plain = " ".join(unicodedata.normalize("NFKC", symbol).split()).upper()
        found = _SUFFIXES.search(plain)
        if found is None or not plain[: found.start()].strip():
            return plain, None
        return plain, plain[: found.start()].strip()
    return parsed.canonical, parsed.base.canonical if parsed.suffixes else None


_SUFFIXES = re.compile(r"(?:/\s*(?:add|rev|corr|suppl)\.?\s*\d+)+\s*$", re.IGNORECASE)
