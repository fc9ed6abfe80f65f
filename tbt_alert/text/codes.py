"""HS and ICS code normalisation and prefix matching.

Notifications write codes every way there is: ``8534.40``, ``6403.99.00``, ``4818900000`` (a
national tariff line), ``Chapter 85``, ``第64章``, ``9001-9033``, ``关税税目号6401到6405``,
``HS Code: from 870310 to 870390``. Everything here reduces them to HS digit prefixes (at most six
digits, the internationally harmonised part) and dotted ICS prefixes, then compares prefixes:

* strong: the notification's code is at least as specific as the sector's prefix (``640399`` vs ``64``);
* weak: the notification only gives something broader (``85`` vs ``8536``), or a wide range.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

Strength = Literal["strong", "weak"]

MAX_RANGE_HEADINGS = 30  # a range wider than this is read as its common chapter, broad
# every marker starts with one of these letters (in either case) or Chinese characters: the
# look-ahead rejects most positions with one set test instead of trying each alternative there
_HS_MARKER = re.compile(
    r"(?=[hscntpf海税稅])(?:\bH\.?S\.?(?:\s*codes?(?:\(s\))?)?|\bSA\b|\bCCCN\b|\bNCM\b|\bNALADISA\b|"
    r"\btariff\s+(?:lines?|codes?|headings?|items?)|\bpartidas?\b|\bfracci[oó]n(?:es)?\b|"
    r"HS编码|HS編碼|海关编码|海關編碼|税则号|稅則號|税号|稅號|税目号?|稅目號?)",
    re.IGNORECASE,
)
_CHAPTER = re.compile(
    r"(?=[c第])(?:(?:\bchapters?|\bchapitres?|\bcap[ií]tulos?)\s+(\d{1,2})\b|第\s*(\d{1,2})\s*章)",
    re.IGNORECASE,
)
_ICS_MARKER = re.compile(
    r"(?=i)(?:\bICS\b|ICS编码|ICS編碼|ICS代码|ICS代碼|ICS分类号)", re.IGNORECASE
)
# What every match of the three markers above needs, in the lower-cased text (a necessary
# condition, not the markers themselves): each alternative opens with a plain character, so the
# regular expression engine skips to candidate positions by a set test. Most texts hold none, and
# one fast scan then stands for three slower ones. Lower-casing keeps every position and every
# word boundary, and lower-cased text matches these plain letters wherever the text matched the
# markers ignoring case, except for the four characters of _CASE_FOLD_EXTRA (İ ı ſ and the Kelvin
# sign match i, s, k ignoring case): a text holding one is read with the markers themselves.
_MARKER_NEEDS = re.compile(
    r"h\.?s|sa\b(?<=\bsa)|naladisa|cccn|ncm|tariff|partida|fracci|chapter|chapitre|cap[ií]tulo|"
    r"ics\b(?<=\bics)|ics编|ics編|ics代|ics分|海|税|稅|第"
)
_CASE_FOLD_EXTRA = re.compile("[\u0130\u0131\u017f\u212a]")
_CODE = re.compile(r"(?<![\d.])(\d{2}(?:[. ]?\d){0,10})(?![\d])")
_RANGE_SEP = re.compile(r"^\s*(?:-|–|to|à|a|al|hasta|到|至)\s*$", re.IGNORECASE)
_GAP_OK = re.compile(
    r"^[\s,;:/、，；：()（）.\-–]*(?:(?:and|et|y|or|ou|o|from|de|desde|和|及|或|"
    r"codes?|code\(s\)|hs|sa|to|à|a|al|hasta|到|至)[\s,;:/、，；：()（）.\-–]*)*$",
    re.IGNORECASE,
)
_ICS_CODE = re.compile(r"(?<![\d.])(\d{2})(?:\.(\d{2,3})(?:\.(\d{2}))?)?\.?(?![\d])")


@dataclass(frozen=True, slots=True)
class HsCode:
    code: str  # 2, 4 or 6 digits
    broad: bool = False  # from a wide range or an 'XX00' placeholder: never a strong match
    raw: str = ""


def _digits(raw: str) -> str:
    return re.sub(r"\D", "", raw)


def _one_hs(raw: str) -> HsCode | None:
    digits = _digits(raw)
    if len(digits) < 2:
        return None
    if len(digits) % 2:  # '64029' (truncated subheading) -> heading; '8' -> nothing
        digits = digits[:-1]
    digits = digits[:6]
    if len(digits) == 4 and digits.endswith("00"):  # '8700': a chapter written as a heading
        return HsCode(digits[:2], broad=True, raw=raw)
    return HsCode(digits, raw=raw)


def _hs_range(lo: str, hi: str, raw: str) -> list[HsCode]:
    a, b = _digits(lo)[:4].ljust(4, "0"), _digits(hi)[:4].ljust(4, "0")
    if len(a) < 4 or len(b) < 4 or b < a:
        return [c for c in (_one_hs(lo), _one_hs(hi)) if c]
    if int(b) - int(a) > MAX_RANGE_HEADINGS or a[:2] != b[:2]:
        common = a[:2] if a[:2] == b[:2] else ""
        return [HsCode(common, broad=True, raw=raw)] if common else []
    return [HsCode(f"{n:04d}", raw=raw) for n in range(int(a), int(b) + 1)]


def normalise_hs(raw: str) -> list[HsCode]:
    """One HS entry as written ('8534.40', '9001-9033', 'HS 85') -> HS prefixes (<= 6 digits)."""
    raw = raw.strip()
    m = re.fullmatch(r"(\d[\d. ]*?)\s*(?:-|–|to|到|至)\s*(\d[\d. ]*)", raw)
    if m:
        return _hs_range(m.group(1), m.group(2), raw)
    if re.fullmatch(r"[\d. ]+", raw):
        code = _one_hs(raw)
        return [code] if code else []
    return hs_in_text(raw, assume_marker=True)


def _code_run(window: str) -> list[tuple[str, str]]:
    """Leading run of codes in a window of text: [(code, separator before it)]."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _CODE.finditer(window):
        gap = window[pos : m.start()]
        if out and not _GAP_OK.match(gap):
            break
        if not out and len(gap) > 25:
            break
        out.append((m.group(1), gap))
        pos = m.end()
    return out


def hs_in_text(text: str, assume_marker: bool = False) -> list[HsCode]:
    """HS codes written in free text after a marker ('HS', 'CCCN', '税目'...), and chapters."""
    starts = [0] if assume_marker else [m.end() for m in _HS_MARKER.finditer(text)]
    found: list[HsCode] = []
    for start in starts:
        run = _code_run(text[start : start + 200])
        i = 0
        while i < len(run):
            code, _ = run[i]
            if i + 1 < len(run) and _RANGE_SEP.match(run[i + 1][1]):
                found += _hs_range(code, run[i + 1][0], f"{code}-{run[i + 1][0]}")
                i += 2
                continue
            one = _one_hs(code)
            if one:
                found.append(one)
            i += 1
    for m in _CHAPTER.finditer(text):
        found.append(HsCode((m.group(1) or m.group(2)).zfill(2), raw=m.group(0)))
    return found


# Codes in a list a source gives as such (ePing's hsCodeText / icsCodeText, the EU database's
# "HS codes" section), kept as written: no marker is needed, and nothing is normalised.
_LISTED_HS = r"\d{2,12}(?:\.\d+)*"
_HS_SEGMENT = re.compile(
    rf"^\s*(?:HS\s*(?:codes?)?\s*:?\s*)?({_LISTED_HS}(?:\s*[-–]\s*{_LISTED_HS})?)\s*(?:$|[-–:(])"
)
_LISTED_ICS = re.compile(r"(?<![\d.])\d{2}(?:\.\d+)*\.?(?!\d)")  # as written: "43.020", "59."
_LISTED_ANY = re.compile(r"\b\d{2}(?:[.\d]{0,12}\d)?\b")
_LABELS = {
    name: re.compile(rf"{name}\s*codes?(?:\(s\))?\s*:\s*([\d.,;\s]+)", re.IGNORECASE)
    for name in ("HS", "ICS")
}


def hs_listed(text: str | None) -> list[str]:
    """The HS code leading each ``;``/``,``/line segment of a code list ("870321 - Vehicles;
    8708"), as written; a range "0701-0714" is kept whole."""
    out = []
    for segment in re.split(r"[;,\n]", text or ""):
        match = _HS_SEGMENT.match(segment)
        if match:
            out.append(re.sub(r"\s+", "", match.group(1)))
    return out


def ics_listed(text: str | None) -> list[str]:
    """The ICS codes of a code list ("43.020; 43.040", "59."), as written."""
    return _LISTED_ICS.findall(text or "")


def codes_listed(text: str | None) -> list[str]:
    """Every code-like number of a section that holds only codes, as written, duplicates dropped."""
    return list(dict.fromkeys(_LISTED_ANY.findall(text or "")))


def labelled_codes(text: str, name: str) -> list[str]:
    """What follows "HS code(s):" (``name`` "HS") or "ICS code(s):" ("ICS") in free text."""
    return _LABELS[name].findall(text)


def codes_in_text(text: str) -> tuple[list[HsCode], list[str]]:
    """``(hs_in_text(text), ics_in_text(text))``, with one quick scan for texts that hold no
    marker of either."""
    if _CASE_FOLD_EXTRA.search(text) is None and _MARKER_NEEDS.search(text.lower()) is None:
        return [], []
    return hs_in_text(text), ics_in_text(text)


def normalise_ics(raw: str) -> str | None:
    """'29.120.50' -> itself; '43.' -> '43'; '23.04.01' -> '23.040.01'; junk -> None."""
    m = _ICS_CODE.search(raw.strip())
    if not m:
        return None
    parts = [m.group(1)]
    if m.group(2):
        parts.append(m.group(2).ljust(3, "0"))
        if m.group(3):
            parts.append(m.group(3))
    return ".".join(parts)


def ics_in_text(text: str) -> list[str]:
    """ICS codes written in free text after an 'ICS' marker."""
    out: list[str] = []
    for marker in _ICS_MARKER.finditer(text):
        window = text[marker.end() : marker.end() + 120]
        for m in _ICS_CODE.finditer(window):
            if m.start() > 30 and not out:
                break
            code = normalise_ics(m.group(0))
            if code:
                out.append(code)
    return out


@functools.lru_cache(maxsize=512)
def _by_chapter(prefixes: tuple[str, ...]) -> dict[str, tuple[str, ...]] | None:
    """The prefixes by their first two digits, in their order (None: a prefix is shorter). A code
    of two digits or more can only match the prefixes of its own chapter."""
    if any(len(p) < 2 for p in prefixes):
        return None
    out: dict[str, list[str]] = {}
    for p in prefixes:
        out.setdefault(p[:2], []).append(p)
    return {chapter: tuple(ps) for chapter, ps in out.items()}


def match_hs(codes: list[HsCode], prefixes: tuple[str, ...]) -> list[tuple[HsCode, str, Strength]]:
    """Each (notification code, sector prefix, strength) pair that matches."""
    out: list[tuple[HsCode, str, Strength]] = []
    chapters = _by_chapter(prefixes)
    for c in codes:
        same = prefixes if chapters is None or len(c.code) < 2 else chapters.get(c.code[:2], ())
        for p in same:
            if c.code.startswith(p):
                out.append((c, p, "weak" if c.broad else "strong"))
            elif p.startswith(c.code):
                out.append((c, p, "weak"))
    return out


def match_ics(codes: list[str], prefixes: tuple[str, ...]) -> list[tuple[str, str, Strength]]:
    out: list[tuple[str, str, Strength]] = []
    for c in codes:
        for p in prefixes:
            if c == p or c.startswith(p + "."):
                out.append((c, p, "strong"))
            elif p.startswith(c + "."):
                out.append((c, p, "weak"))
    return out
