"""Rule evidence: what the codes and phrases of one notification say about each sector.

Pure functions over a compiled :class:`RuleIndex`; the decision that combines this with the model
lives in :mod:`tbt_alert.classify.classifier`. Every contribution carries a :class:`Reason` (data,
worded by each reader in its own language).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tbt_alert.classify.reasons import Reason, ReasonKind
from tbt_alert.classify.rules import Rules, Sector
from tbt_alert.classify.userdict import user_words
from tbt_alert.record import CanonicalRecord
from tbt_alert.text.boilerplate import GENERIC_TITLE_WORDS, ROMANCE_BOILERPLATE
from tbt_alert.text.codes import (
    HsCode,
    codes_in_text,
    match_hs,
    match_ics,
    normalise_hs,
    normalise_ics,
)
from tbt_alert.text.exclusions import Exclusion, excluded_by, exclusion_spans
from tbt_alert.text.hsretrieval import Hit as HsHit
from tbt_alert.text.hsretrieval import HsIndex, load_index, phrase_words, terms
from tbt_alert.text.language import detect
from tbt_alert.text.lexicon import Quote, quoted_descriptions
from tbt_alert.text.phrases import Hit, PhraseMatcher, normalise_text, phrase_key
from tbt_alert.text.segment import segmenter_for

TITLE_FIELDS = ("title", "products_text")
QUOTE_FIELDS = ("products_text", "title")
BODY_FIELDS = ("description", "objective")
# Retrieval of the product text to HS headings (tbt_alert.text.hsretrieval): a retrieved heading
# inside a sector's HS codes is evidence for it when it is similar enough, shares at least
# RETRIEVAL_MIN_WORDS words with the text, beats every retrieved heading outside the sector by
# RETRIEVAL_MARGIN, and one of its shared words is not in that best outside heading (so "motor
# vehicle" alone, shared by 8703 cars and 8708 car parts, decides nothing).
RETRIEVAL_K = 10
RETRIEVAL_MIN_SIM = 0.2
RETRIEVAL_MIN_WORDS = 2
RETRIEVAL_MARGIN = 0.05
# ... and against a sector claimed by weak evidence alone (a body or weak phrase, a chapter-level
# code: no strong code, no product phrase in the title), when the best retrieved heading is outside
# the sector's codes, at least this similar and clearly ahead of the sector's best: that evidence
# then counts half.
RETRIEVAL_AGAINST_MIN_SIM = 0.3
RETRIEVAL_LANGUAGES = frozenset({"en", None})  # the nomenclature table is English
_ROMANCE_WORD = re.compile(r"[a-zà-ÿœ]{3,}")
_PHRASE_KINDS = (ReasonKind.PHRASE, ReasonKind.WEAK_PHRASE, ReasonKind.CROSS)
_LATIN_WORD = re.compile(r"[A-Za-z]{3}")
_SENTENCE_END = re.compile(r"(?<=[.;])\s")


@dataclass(slots=True)
class SectorEvidence:
    score: float = 0.0
    reasons: list[Reason] = field(default_factory=list)
    text: bool = False  # a product phrase of the sector was found (not only codes)
    title_text: bool = False  # ... in the title or products-covered field
    strong_code: bool = False
    # the products themselves speak for the sector: a code, a phrase (weak ones too) in the title
    # or products covered (or the body of a record whose title names nothing), a retrieved
    # heading; not a phrase of the description alone, which may name what the products are not
    grounded: bool = False


@dataclass(slots=True)
class RecordEvidence:
    sectors: dict[str, SectorEvidence]
    horizontal: bool
    horizontal_reasons: list[Reason]


@dataclass(frozen=True, slots=True)
class RuleIndex:
    rules: Rules
    matcher: PhraseMatcher
    roles: dict[str, list[tuple[str, str]]]  # phrase -> [(role, sector or cross-cutting id)]
    fan: dict[str, list[tuple[str, tuple[str, ...]]]]  # fan-out phrase -> [(cross id, sectors)]
    heads: dict[str, tuple[frozenset[str], frozenset[str]]]  # sector -> (HS chapters, ICS fields)
    hs_index: HsIndex  # the nomenclature's descriptions, for retrieval
    domains: frozenset[str]  # ids of the no_sector entries (fields that concern no sector)
    scope_in_text: frozenset[str]  # ids of cross-cutting entries whose articles the text names
    # sector -> other sectors' finer HS and ICS prefixes (see finer_codes)
    finer: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    # sector -> retrieved heading -> its place (see _place); filled as retrieval meets headings
    hs_places: dict[str, dict[str, int]] = field(default_factory=dict)
    hs_inside: dict[str, frozenset[str]] = field(default_factory=dict)  # heading -> sectors


def build_index(rules: Rules) -> RuleIndex:
    """Compile every phrase of the rules into one matcher, remembering each phrase's roles."""
    roles: dict[str, list[tuple[str, str]]] = defaultdict(list)
    fan: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
    for s in rules.sectors:
        for role, phrases in (("kw", s.keywords), ("weak", s.weak_keywords), ("neg", s.negatives)):
            for p in phrases:
                roles[phrase_key(p)].append((role, s.id))
    for c in rules.cross_cutting:
        for p in c.triggers:
            roles[phrase_key(p)].append(("trigger", c.id))
        for p, targets in c.fan_out:
            fan[phrase_key(p)].append((c.id, targets))
    matcher = PhraseMatcher(list(roles) + list(fan), segmenter_for(user_words(rules)))
    heads = {
        s.id: (
            frozenset(p[:2] for p in s.hs + s.hs_weak),
            frozenset(p[:2] for p in s.ics + s.ics_weak),
        )
        for s in rules.sectors
    }
    domains = frozenset(c.id for c in rules.cross_cutting if c.no_sector)
    in_text = frozenset(c.id for c in rules.cross_cutting if c.scope_in_text)
    finer = {s.id: finer_codes(s, rules.sectors) for s in rules.sectors}
    return RuleIndex(
        rules, matcher, dict(roles), dict(fan), heads, load_index(), domains, in_text, finer
    )


def record_codes(record: CanonicalRecord) -> tuple[list[HsCode], list[str]]:
    """All HS and ICS codes of a record: the structured lists plus codes written in its text."""
    hs: list[HsCode] = [c for raw in record.hs_codes for c in normalise_hs(raw)]
    ics = [c for c in (normalise_ics(raw) for raw in record.ics_codes) if c]
    for text in (record.products_text, record.title, record.description):
        if text:
            in_text = codes_in_text(text)
            hs += in_text[0]
            ics += in_text[1]
    return hs, ics


def _field_texts(record: CanonicalRecord) -> dict[str, str]:
    return {name: normalise_text(getattr(record, name)) for name in TITLE_FIELDS + BODY_FIELDS}


def _quotes(texts: dict[str, str]) -> dict[str, list[Quote]]:
    """HS descriptions quoted in the title and products covered (see tbt_alert.text.lexicon)."""
    found = {name: quoted_descriptions(texts[name]) for name in QUOTE_FIELDS}
    return {name: q for name, q in found.items() if q}


QUOTED = " (quoted description)"  # the raw text of a code found by its quoted description


def _quoted_codes(quotes: dict[str, list[Quote]], hs: list[HsCode]) -> list[HsCode]:
    """A quoted description stands for its code: the codes not already written, once each."""
    have = {c.code for c in hs}
    out = []
    for q in (q for qs in quotes.values() for q in qs):
        if q.code not in have:
            have.add(q.code)
            out.append(HsCode(q.code, raw=f"{q.code}{QUOTED}"))
    return out


def _unquoted_hits(
    sector: Sector,
    hits: dict[str, list[Hit]],
    quotes: dict[str, list[Quote]],
    ev: SectorEvidence,
) -> dict[str, list[Hit]]:
    """Drop this sector's phrase hits lying inside a quoted HS description of a code outside the
    sector: 'leather' in the description of 4202 (trunks and cases) says what 4202 covers."""
    if not quotes:
        return hits
    out = dict(hits)
    for name, qs in quotes.items():
        keep = []
        for h in hits[name]:
            q = next((q for q in qs if q.start <= h.start and h.end <= q.end), None)
            if q is None or match_hs([HsCode(q.code)], sector.hs + sector.hs_weak):
                keep.append(h)
            elif h.phrase in sector_phrases(sector):
                ev.reasons.append(
                    Reason(
                        ReasonKind.HS_DESCRIPTION,
                        h.phrase,
                        sector.id,
                        name,
                        detail={"heading": q.code},
                    )
                )
        out[name] = keep
    return out


@functools.cache
def sector_phrases(sector: Sector) -> frozenset[str]:
    return frozenset(phrase_key(p) for p in sector.keywords + sector.weak_keywords)


def finer_codes(
    sector: Sector, sectors: tuple[Sector, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Other sectors' strong HS and ICS prefixes that refine one of this sector's: 8544 (wires
    and cables, low-voltage) is refined by 854430 (vehicle wiring sets, auto parts), ICS 59.080
    (textile products) by 59.080.40 (coated fabrics, synthetic leather)."""
    hs = {q for t in sectors if t != sector for q in t.hs if q not in t.hs_weak}
    ics = {q for t in sectors if t != sector for q in t.ics if q not in t.ics_weak}
    mine_hs, mine_ics = sector.hs + sector.hs_weak, sector.ics + sector.ics_weak
    return (
        tuple(sorted(q for q in hs if any(q != p and q.startswith(p) for p in mine_hs))),
        tuple(sorted(q for q in ics if any(q.startswith(p + ".") for p in mine_ics))),
    )


def _refined(code: str, prefix: str, finer: tuple[str, ...], sep: str = "") -> str | None:
    """The finer prefix of another sector that this code falls under, if any."""
    for q in finer:
        if q.startswith(prefix) and (code == q or code.startswith(q + sep)):
            return q
    return None


def _code_evidence(
    sector: Sector,
    hs: list[HsCode],
    ics: list[str],
    w: dict[str, float],
    ev: SectorEvidence,
    finer: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
) -> float:
    """The best code evidence. A code that falls under another sector's finer prefix is that
    sector's product first: for this one it counts as a weak code."""
    hs_score = ics_score = 0.0
    for code, prefix, strength in match_hs(hs, sector.hs + sector.hs_weak):
        strong = strength == "strong" and prefix not in sector.hs_weak
        if strong and finer[0] and _refined(code.code, prefix, finer[0]):
            strong = False
        value = w["hs_strong"] if strong else w["hs_weak"]
        if value > hs_score:
            hs_score = value
            quoted = code.raw.endswith(QUOTED)
            ev.reasons.append(
                Reason(
                    ReasonKind.HS,
                    code.code if quoted else code.raw or code.code,
                    sector.id,
                    strength="strong" if strong else "weak",
                    detail={"prefix": prefix, "why": "quoted"} if quoted else {"prefix": prefix},
                )
            )
        ev.strong_code |= strong
    for ics_code, prefix, strength in match_ics(ics, sector.ics + sector.ics_weak):
        strong = strength == "strong" and prefix not in sector.ics_weak
        if strong and finer[1] and _refined(ics_code, prefix, finer[1], "."):
            strong = False
        value = w["ics_strong"] if strong else w["ics_weak"]
        if value > ics_score:
            ics_score = value
            ev.reasons.append(
                Reason(
                    ReasonKind.ICS,
                    ics_code,
                    sector.id,
                    strength="strong" if strong else "weak",
                    detail={"prefix": prefix},
                )
            )
        ev.strong_code |= strong
    return max(hs_score, ics_score) + (0.5 if hs_score and ics_score else 0.0)


_THIN_NOISE = re.compile(
    # the forms' page marker first, before its digit is taken for a number: "(6 page(s), in
    # Arabic)", "(15 página(s), en español)", "（4頁）"
    r"\([^()]*\d\s*(?:pages?\b|páginas?\b|paginas?\b|页|頁)(?:\(s\))?[^()]*\)|"
    r"g/tbt/\S+|[^\s\u3400-\u9fff]*\d[^\s\u3400-\u9fff]*|"
    r"\b(?:addendum|add|corrigendum|corr|"
    r"revision|rev|supplement|notification|draft|national|standards?|technical|regulations?|"
    r"of|the|and|for|on|to|in|no|nr)\b|补遗|更正|修订|增补|通报|国家标准|标准|草案|技术法规",
)


def thin_title(record: CanonicalRecord) -> bool:
    """A title that names nothing (a symbol, a standard number, 'Addendum'): then the products
    are named, if anywhere, in the description or objective. (A title holding a phrase of a
    sector, or a trap, names a product whatever this says: the caller checks that first.)

    Only Latin words and Han characters are counted, so a title wholly in Cyrillic, Hangul,
    Arabic, kana or Thai is read as thin: its description is read as its scope. That is
    deliberate: such titles mostly name the instrument or a broad category ("О безопасности
    продукции легкой промышленности", "전기용품 안전기준 일부개정안") and the English
    description names the products; counting their words cost made-up set C four true alerts of
    115 and removed no false one on sets A and D."""
    rest = _THIN_NOISE.sub(
        " ", normalise_text(" ".join(filter(None, (record.title, record.products_text))))
    )
    latin = re.findall(r"[a-zà-ÿ]{3,}", rest)
    han = re.findall(r"[\u3400-\u9fff]", rest)
    return len(latin) < 2 and len(han) < 4


def _phrase_evidence(
    sector_id: str,
    hits: dict[str, list[Hit]],
    index: RuleIndex,
    ev: SectorEvidence,
    body_as_title: bool = False,
    body_scope: bool = False,
) -> float:
    """The sector's phrase score. ``body_as_title``: the title is thin, so every phrase of the
    body weighs as the title's; ``body_scope``: the title is generic, so the body's product
    phrases do (its weak words stay weak: 'fittings', 'leather' in a generic text)."""
    w = index.rules.weights
    best, weak_best, seen = 0.0, 0.0, set()
    for name, field_hits in hits.items():
        in_title = name in TITLE_FIELDS or body_as_title
        scoped = in_title or body_scope
        negatives = _negatives(field_hits, index)
        for h in field_hits:
            roles = index.roles.get(h.phrase, ())
            strong, weak = ("kw", sector_id) in roles, ("weak", sector_id) in roles
            if not (strong or weak):
                continue
            veto = _veto(h, sector_id, negatives, index)
            if veto is not None:
                ev.reasons.append(
                    Reason(ReasonKind.VETO, h.phrase, sector_id, name, detail={"by": veto.phrase})
                )
                continue
            if strong:
                value = w["keyword_title"] if scoped else w["keyword_body"]
                ev.text = True
                ev.title_text |= scoped
                ev.grounded |= scoped
                best = max(best, value)
            else:
                ev.grounded |= in_title
                value = w["weak_keyword"] * (1.0 if in_title else 0.5)
                weak_best = max(weak_best, value)
            if h.phrase not in seen:
                seen.add(h.phrase)
                kind = ReasonKind.PHRASE if strong else ReasonKind.WEAK_PHRASE
                ev.reasons.append(
                    Reason(kind, h.phrase, sector_id, name, "strong" if strong else "weak")
                )
    extra = min(1.0, 0.5 * max(0, len(seen) - 1))
    return max(best, weak_best) + (extra if best else 0.0)


def _cross_evidence(
    hits: dict[str, list[Hit]], index: RuleIndex, out: dict[str, SectorEvidence]
) -> tuple[bool, list[Reason]]:
    w = index.rules.weights
    cross = {c.id: c for c in index.rules.cross_cutting}
    triggers: dict[str, str] = {}
    for field_hits in hits.values():
        for h in field_hits:
            for role, cid in index.roles.get(h.phrase, ()):
                if role == "trigger":
                    triggers.setdefault(cid, h.phrase)
    horizontal_reasons = []
    for cid, phrase in triggers.items():
        if cross[cid].horizontal and any(h.phrase == phrase for f in TITLE_FIELDS for h in hits[f]):
            horizontal_reasons.append(Reason(ReasonKind.HORIZONTAL, phrase, detail={"cross": cid}))
    for name, field_hits in hits.items():
        negatives = _negatives(field_hits, index)
        for h in field_hits:
            for cid, targets in index.fan.get(h.phrase, ()):
                if cid not in triggers:
                    continue
                value = (
                    w["cross_cutting_title"] if name in TITLE_FIELDS else w["cross_cutting_body"]
                )
                for sid in targets:
                    if _veto(h, sid, negatives, index) is not None:
                        continue
                    ev = out[sid]
                    if value > ev.score:
                        ev.score = value
                        ev.grounded = name in TITLE_FIELDS
                        ev.reasons.append(
                            Reason(
                                ReasonKind.CROSS,
                                h.phrase,
                                sid,
                                name,
                                detail={"trigger": triggers[cid], "cross": cid},
                            )
                        )
    return bool(horizontal_reasons), horizontal_reasons


def retrieval_query(record: CanonicalRecord) -> str:
    """The product wording retrieval reads: title, products covered and the first two sentences
    of the description (the first is often the form's own: "Burundi, Kenya, ... would like to
    inform WTO Members that the Draft East African Standard;"), each only when it is English (or
    too short to tell)."""
    parts = [t for t in (record.title, record.products_text) if t and _english(t)]
    if record.description and _english(record.description):
        parts += _SENTENCE_END.split(record.description[:400], maxsplit=2)[:2]
    return " ; ".join(parts)


def _english(text: str) -> bool:
    """English or too short to tell (a text without a Latin word retrieves nothing anyway)."""
    return _LATIN_WORD.search(text) is not None and detect(text[:160]) in RETRIEVAL_LANGUAGES


def retrieve(index: RuleIndex, records: Sequence[CanonicalRecord]) -> list[list[HsHit]]:
    """The best HS headings for each record's product wording (one sparse product per batch)."""
    return index.hs_index.search_many([retrieval_query(r) for r in records], RETRIEVAL_K)


def collect_evidence_many(
    index: RuleIndex, records: Sequence[CanonicalRecord]
) -> list[RecordEvidence]:
    """:func:`collect_evidence` for a batch (retrieval vectorised over the batch)."""
    return [
        collect_evidence(index, r, hits)
        for r, hits in zip(records, retrieve(index, records), strict=True)
    ]


def _trap_named(sector_id: str, hits: dict[str, list[Hit]], index: RuleIndex) -> bool:
    """The text names one of the sector's traps (a negative phrase: 'cigarette lighter socket',
    'heat pump'): the products' resemblance to the sector's headings is then the trap's."""
    return any(
        ("neg", sector_id) in index.roles.get(h.phrase, ()) for fh in hits.values() for h in fh
    )


INSIDE, TOUCHING, OUTSIDE = 0, 1, 2  # a heading's place relative to a sector's HS codes


def _place(index: RuleIndex, sector: Sector, code: str) -> int:
    """INSIDE the sector's strong HS codes, TOUCHING them (a weak code, a broader or narrower
    match), or OUTSIDE all of them; memoised per rule index (retrieval asks for the same few
    hundred headings over and over)."""
    places = index.hs_places.setdefault(sector.id, {})
    place = places.get(code)
    if place is None:
        matches = match_hs([HsCode(code)], sector.hs + sector.hs_weak)
        finer = index.finer[sector.id][0]
        if any(
            s == "strong" and p not in sector.hs_weak and not _refined(code, p, finer)
            for _, p, s in matches
        ):
            place = INSIDE
        else:  # a heading under another sector's finer prefix only touches this one (8544.30)
            place = TOUCHING if matches else OUTSIDE
        places[code] = place
    return place


def _inside_sectors(index: RuleIndex, code: str) -> frozenset[str]:
    """The sectors whose strong HS codes hold this heading (memoised per rule index)."""
    found = index.hs_inside.get(code)
    if found is None:
        found = frozenset(s.id for s in index.rules.sectors if _place(index, s, code) == INSIDE)
        index.hs_inside[code] = found
    return found


def _best_hits(
    index: RuleIndex, sector: Sector, hits: list[HsHit]
) -> tuple[HsHit | None, HsHit | None]:
    """The best retrieved heading inside the sector's (strong) HS codes, and the best one that
    matches none of its codes."""
    best_in: HsHit | None = None
    best_out: HsHit | None = None
    for h in hits:
        place = _place(index, sector, h.code)
        if place == INSIDE and best_in is None:
            best_in = h
        elif place == OUTSIDE and best_out is None:
            best_out = h
        if best_in is not None and best_out is not None:
            break
    return best_in, best_out


def _clearly_ahead(best: HsHit | None, other: HsHit | None, min_sim: float) -> bool:
    """``best`` is similar enough, shares enough words, and beats ``other`` by the margin with a
    word ``other`` lacks."""
    if best is None or best.similarity < min_sim or len(best.words) < RETRIEVAL_MIN_WORDS:
        return False
    if other is None:
        return True
    return best.similarity >= other.similarity + RETRIEVAL_MARGIN and bool(
        set(best.words) - set(other.words)
    )


def _retrieved_reason(sector: Sector, hit: HsHit, other: HsHit | None, against: bool) -> Reason:
    detail = {"words": ", ".join(hit.words), "similarity": f"{hit.similarity:.2f}"}
    if other is not None:
        detail["runner_up"] = other.code
    return Reason(
        ReasonKind.HS_RETRIEVED,
        hit.code,
        sector.id,
        strength="against" if against else None,
        detail=detail,
    )


def _retrieved_evidence(
    index: RuleIndex,
    sector: Sector,
    hits: list[HsHit],
    own_hs: list[HsCode],
    w: dict[str, float],
    ev: SectorEvidence,
) -> float:
    """A retrieved heading of this sector, clearly ahead of every other (see RETRIEVAL_*).

    Not used when the record gives HS codes of its own and none is the sector's: the notifier's
    coding of the products is then better evidence than a resemblance of words."""
    if own_hs and not match_hs(own_hs, sector.hs + sector.hs_weak):
        return 0.0
    best_in, best_out = _best_hits(index, sector, hits)
    if best_in is None or not _clearly_ahead(best_in, best_out, RETRIEVAL_MIN_SIM):
        return 0.0
    ev.reasons.append(_retrieved_reason(sector, best_in, best_out, against=False))
    return w["hs_retrieved"]


def _retrieved_against(
    index: RuleIndex,
    sector: Sector,
    hits: list[HsHit],
    ev: SectorEvidence,
    record: CanonicalRecord,
) -> bool:
    """The products clearly read like a heading outside every code of the sector (the best
    retrieved heading is outside, ahead of the sector's best by the margin), and either every
    phrase that claimed the sector is made of that heading's words, or the heading's words are
    the title's and the sector's phrases stand only in the body: weak evidence for the sector (a
    phrase in the body, a weak word, a chapter-level code) then belongs to that other heading
    ('electric vehicles', chapter 87, are cars, not vehicle parts; paper 'tablecloths' are 4818,
    not linen; a title on household washing machines, 8450, is not made about the 'textiles'
    its description says they wash)."""
    if not hits:
        return False
    best_in, best_out = _best_hits(index, sector, hits)
    if best_out is None or best_out is not hits[0]:
        return False
    if not _clearly_ahead(best_out, best_in, RETRIEVAL_AGAINST_MIN_SIM):
        return False
    shared = set(best_out.words)
    phrases = [r for r in ev.reasons if r.kind in _PHRASE_KINDS]
    # the sector's own words are that heading's words ('tablecloths' of paper, 4818), not words
    # the heading lacks ('electrical appliances' against 'industrial appliances', 8479) ...
    made_of = all((words := phrase_words(r.value)) and words <= shared for r in phrases)
    # ... or the title names that heading's product and the sector is claimed in the body only
    titled = (
        not made_of
        and bool(phrases)
        and all(r.field in BODY_FIELDS for r in phrases)
        and shared <= title_words(record)
    )
    if not (made_of or titled):
        return False
    ev.reasons.append(_retrieved_reason(sector, best_out, best_in, against=True))
    return True


def collect_evidence(
    index: RuleIndex, record: CanonicalRecord, retrieved: list[HsHit] | None = None
) -> RecordEvidence:
    """Per-sector rule score and reasons for one record (its own fields only). ``retrieved``: the
    record's retrieved HS headings, when the caller has them (see :func:`collect_evidence_many`)."""
    w = index.rules.weights
    if retrieved is None:
        retrieved = retrieve(index, [record])[0]
    hs, ics = record_codes(record)
    own_hs = [c for c in hs if len(c.code) >= 4]
    texts = _field_texts(record)
    quotes = _quotes(texts)
    hs += _quoted_codes(quotes, hs)
    chapters, fields = {c.code[:2] for c in hs}, {c[:2] for c in ics}
    hits = {name: index.matcher.find(text) for name, text in texts.items()}
    dropped = _drop_excluded(texts, hits, index)
    # a title naming a field of no sector ('Medicines') is short, not thin: it names the products
    domain = _domain_named(hits, index)
    thin = (
        any(hits[name] for name in BODY_FIELDS)
        and domain is None
        and not _title_names_product(hits, index)
        and thin_title(record)
    )
    if thin:
        h_reasons_thin = [Reason(ReasonKind.THIN_TITLE)]
    cross: dict[str, SectorEvidence] = defaultdict(SectorEvidence)
    horizontal, h_reasons = _cross_evidence(hits, index, cross)
    generic: bool | None = None if domain is None else False  # read when first needed
    # sectors with a phrase among the hits: for the others phrase evidence is nothing
    named = {
        sid
        for field_hits in hits.values()
        for h in field_hits
        for role, sid in index.roles.get(h.phrase, ())
        if role in ("kw", "weak")
    }
    # sectors with a retrieved heading inside their codes: the only ones retrieval can speak for
    candidates: set[str] = set()
    for h in retrieved:
        candidates |= _inside_sectors(index, h.code)
    out: dict[str, SectorEvidence] = {}
    for sector in index.rules.sectors:
        hs_heads, ics_heads = index.heads[sector.id]
        coded = not hs_heads.isdisjoint(chapters) or not ics_heads.isdisjoint(fields)
        if not (coded or sector.id in named or sector.id in cross or sector.id in candidates):
            continue  # no code, phrase, cross-cutting or retrieved evidence: score 0, no reasons
        ev = SectorEvidence()
        code = 0.0
        if coded:
            code = _code_evidence(sector, hs, ics, w, ev, index.finer[sector.id])
            ev.grounded |= code > 0
        text = 0.0
        if sector.id in named:
            if generic is None and not thin and _body_names(sector.id, hits, index):
                generic = _generic_title(record, hits, index)  # read only when it can matter
            text = _phrase_evidence(
                sector.id,
                _unquoted_hits(sector, hits, quotes, ev),
                index,
                ev,
                thin,
                bool(generic),
            )
        if code and not text:
            code = _doubt_codes(sector, hs, hits, index, ev, code, thin)
        found = 0.0
        if (
            sector.id in candidates
            and code < w["hs_retrieved"]
            and not _trap_named(sector.id, hits, index)
        ):
            found = _retrieved_evidence(index, sector, retrieved, own_hs, w, ev)
            code = max(code, found)
            ev.grounded |= found > 0
        c = cross.get(sector.id)
        if c is not None and c.score > text:
            text = c.score
            ev.reasons += c.reasons
            ev.text = True
            ev.grounded |= c.grounded
        weak_only = not (found or ev.strong_code or ev.title_text)
        weak_only = weak_only and 0 < code + text < w["keyword_title"]
        other_product = False  # the title names another product, or a field of no sector
        if weak_only and _retrieved_against(index, sector, retrieved, ev, record):
            code, text, other_product = code / 2, text / 2, True
        elif (
            domain is not None
            and code + text > 0
            and not any(
                (r.kind in _PHRASE_KINDS and r.field in TITLE_FIELDS)
                or r.kind == ReasonKind.CODES_DOUBTED
                for r in ev.reasons
            )
        ):
            code, text, other_product = code / 2, text / 2, True
            ev.grounded = False  # the field's own products are what the codes and words are of
            ev.reasons.append(
                Reason(
                    ReasonKind.CODES_DOUBTED,
                    domain.phrase,
                    sector.id,
                    domain.field,
                    detail={"why": "domain"},
                )
            )
        if ev.text and not ev.grounded and not _trap_doubted(ev):
            if generic is None:
                generic = _generic_title(record, hits, index)
            ev.grounded = (
                generic
                or thin
                or (
                    not other_product
                    and not record.products_text
                    and _several_products(sector.id, hits, index)
                )
            )
        ev.score = round(code + text, 3)
        if ev.score > 0 or ev.reasons:
            out[sector.id] = ev
    if thin:
        for ev in out.values():
            if ev.text and any(r.field in BODY_FIELDS for r in ev.reasons):
                ev.reasons += h_reasons_thin
    if dropped:
        _excluded_reasons(dropped, index, out)
    return RecordEvidence(out, horizontal, h_reasons)


def _body_names(sector_id: str, hits: dict[str, list[Hit]], index: RuleIndex) -> bool:
    """A product phrase of the sector in the description or objective."""
    return any(
        ("kw", sector_id) in index.roles.get(h.phrase, ()) for n in BODY_FIELDS for h in hits[n]
    )


def _trap_doubted(ev: SectorEvidence) -> bool:
    return any(
        r.kind == ReasonKind.CODES_DOUBTED and r.detail.get("why") == "trap" for r in ev.reasons
    )


def _drop_excluded(
    texts: dict[str, str], hits: dict[str, list[Hit]], index: RuleIndex
) -> list[tuple[str, Hit, Exclusion]]:
    """Take out of ``hits`` the product phrases (a sector's words and traps) found where the text
    says what the scope leaves out ("Toy glasses are excluded", "does not apply to textile floor
    coverings"): a product named there is no evidence that the measure covers it. Triggers stay:
    "toys, except those containing phthalates" still speaks of a substance. Returns what was
    taken out."""
    dropped: list[tuple[str, Hit, Exclusion]] = []
    for name in BODY_FIELDS:  # titles and products fields quote HS wording ('excluding ...')
        field_hits = hits[name]
        if not field_hits:
            continue
        spans = exclusion_spans(texts[name])
        if not spans:
            continue
        kept = []
        for h in field_hits:
            span = excluded_by(spans, h.start, h.end)
            if span is None or not any(
                role in ("kw", "weak", "neg") for role, _ in index.roles.get(h.phrase, ())
            ):
                kept.append(h)
            else:
                dropped.append((name, h, span))
        hits[name] = kept
    return dropped


def _excluded_reasons(
    dropped: list[tuple[str, Hit, Exclusion]], index: RuleIndex, out: dict[str, SectorEvidence]
) -> None:
    """A sector shown for other evidence says which of its phrases were not counted, and why."""
    for name, h, span in dropped:
        for role, sid in index.roles.get(h.phrase, ()):
            ev = out.get(sid)
            if role not in ("kw", "weak") or ev is None:
                continue
            if not any(
                r.value == h.phrase and (r.kind == ReasonKind.VETO or r.kind in _PHRASE_KINDS)
                for r in ev.reasons
            ):  # said once; a phrase counted where it is named again is not 'not counted'
                ev.reasons.append(
                    Reason(ReasonKind.VETO, h.phrase, sid, name, detail={"by": span.cue})
                )


def _several_products(sector_id: str, hits: dict[str, list[Hit]], index: RuleIndex) -> bool:
    """The description names two or more of the sector's products (distinct phrases, neither
    inside the other, none vetoed): it is about them, not mentioning one in passing, as an
    exclusion or a comparison does ("disjoncteurs et interrupteurs", "robinets et robinetterie
    sanitaire"). Asked only when no products-covered field names other products and the title
    was not read as another product: then two products may be another's components (a gas
    boiler's pump and valve) or its test load (a washing machine's cotton fabrics)."""
    found: list[frozenset[str]] = []
    for name in BODY_FIELDS:
        negatives = _negatives(hits[name], index)
        for h in hits[name]:
            if ("kw", sector_id) not in index.roles.get(h.phrase, ()):
                continue
            if _veto(h, sector_id, negatives, index) is not None:
                continue
            words = phrase_words(h.phrase)
            if any(words <= other or other <= words for other in found):
                continue  # the same product again ('water pumps' ... 'such pumps')
            found.append(words)
            if len(found) >= 2:
                return True
    return False


def title_words(record: CanonicalRecord) -> frozenset[str]:
    """The single-word terms (stems, as retrieval reads them) of the title and products covered."""
    return frozenset(
        t
        for name in TITLE_FIELDS
        if (text := getattr(record, name))
        for t in terms(text)
        if " " not in t
    )


def _title_names_product(hits: dict[str, list[Hit]], index: RuleIndex) -> bool:
    """A phrase of a sector, or a trap, in the title or products covered. A substance is not a
    product, though a sector may count it as a weak word of its own ('dimethylfumarate',
    'chromium VI' of footwear and leather): a weak word that is also a substance restriction's
    trigger names none."""
    found = list(_title_roles(hits, index))
    substances = {
        h.phrase for _, h, role, rid in found if role == "trigger" and rid in index.scope_in_text
    }
    return any(
        role in ("kw", "neg") or (role == "weak" and h.phrase not in substances)
        for _, h, role, _ in found
    )


def _generic_title(record: CanonicalRecord, hits: dict[str, list[Hit]], index: RuleIndex) -> bool:
    """A title that names no product: no phrase of any sector (nor a trap, nor a product word of a
    substance restriction; a substance that is a sector's weak word names none, see
    _title_names_product) in the title or products covered, and either a substance restriction's
    trigger (REACH Annex XVII, PFAS: the articles are named in the text), or, in English, no word
    beyond the forms' boilerplate (which retrieval's terms drop: regulation, safety, requirements,
    products ...) and GENERIC_TITLE_WORDS ("Safety requirements for products intended for
    children"), or, in Spanish, French or Portuguese, only the instrument's words
    (ROMANCE_BOILERPLATE: "Proyecto de Resolución por la cual se modifica el Reglamento Técnico").
    The description's products are then the scope: its phrases weigh as the title's would, as
    under a thin title. A title in another language is never taken for generic: a product it
    names outside the rules' vocabulary (洗衣机) would go unseen."""
    roles = [(role, rid) for _, _, role, rid in _title_roles(hits, index)]
    if _title_names_product(hits, index) or any(
        h.phrase in index.fan for name in TITLE_FIELDS for h in hits[name]
    ):
        return False  # the title names products ('PVC articles', 'textiles')
    # a substance restriction names its articles in the text (sectors.md rule 2)
    if any(role == "trigger" and rid in index.scope_in_text for role, rid in roles):
        return True
    title = " ".join(t for t in (record.title, record.products_text) if t)
    if not title or _LATIN_WORD.search(title) is None:
        return False
    language = detect(title[:160])
    if language in RETRIEVAL_LANGUAGES:
        return title_words(record) <= GENERIC_TITLE_WORDS
    if language in ("es", "fr", "pt"):
        words = _ROMANCE_WORD.findall(_THIN_NOISE.sub(" ", normalise_text(title)))
        return all(w in ROMANCE_BOILERPLATE for w in words)
    return False


@dataclass(frozen=True, slots=True)
class _Domain:
    phrase: str
    field: str


def _domain_named(hits: dict[str, list[Hit]], index: RuleIndex) -> _Domain | None:
    """The first phrase of a field that usually concerns no sector (a ``no_sector`` entry of the
    rules: medical devices, foods, cosmetics ...) in the title or products covered, if any."""
    if index.domains:
        for name, h, role, rid in _title_roles(hits, index):
            if role == "trigger" and rid in index.domains:
                return _Domain(h.phrase, name)
    return None


def _title_roles(
    hits: dict[str, list[Hit]], index: RuleIndex
) -> Iterator[tuple[str, Hit, str, str]]:
    """(field, hit, role, sector or cross-cutting id) for each role of each phrase found in the
    title or products covered, in the order found."""
    for name in TITLE_FIELDS:
        for h in hits[name]:
            for role, rid in index.roles.get(h.phrase, ()):
                yield name, h, role, rid


def _doubt_codes(
    sector: Sector,
    hs: list[HsCode],
    hits: dict[str, list[Hit]],
    index: RuleIndex,
    ev: SectorEvidence,
    code: float,
    thin: bool,
) -> float:
    """Codes are evidence, not proof: halve them when nothing in the text backs them and the text
    names another sector's products, or the title names this sector's trap (the product the code's
    neighbourhood holds, said to be another: 'agricultural textiles' coded as knitted fabric,
    'heat pumps' coded 8413; under a thin title the description counts as the title), or most of
    the record's HS codes point elsewhere."""
    fields = TITLE_FIELDS + BODY_FIELDS if thin else TITLE_FIELDS
    for name, h in ((n, h) for n in fields for h in hits[n]):
        if ("neg", sector.id) in index.roles.get(h.phrase, ()):
            ev.reasons.append(
                Reason(ReasonKind.CODES_DOUBTED, h.phrase, sector.id, name, detail={"why": "trap"})
            )
            ev.grounded = False  # the codes were all it had: the title says they are not ours
            return code / 2
    if _other_title_sectors(sector.id, hits, index):
        ev.reasons.append(
            Reason(ReasonKind.CODES_DOUBTED, sector=sector.id, detail={"why": "other_products"})
        )
        return code / 2
    own = sum(1 for c in hs if match_hs([c], sector.hs + sector.hs_weak))
    if hs and own * 2 <= len(hs):
        ev.reasons.append(
            Reason(
                ReasonKind.CODES_DOUBTED,
                sector=sector.id,
                detail={"why": "codes_elsewhere", "own": str(own), "total": str(len(hs))},
            )
        )
        return code / 2
    return code


@dataclass(frozen=True, slots=True)
class _Negatives:
    """The hits of a field that are some sector's negative phrase (most fields hold none), in the
    order found, and the longest of them: what :func:`_veto` looks through, so that a field of
    many hits is not scanned once per hit."""

    hits: list[Hit]
    reach: int  # the longest negative hit, in characters (spaces between words included)


def _negatives(field_hits: list[Hit], index: RuleIndex) -> _Negatives:
    hits = [
        h for h in field_hits if any(role == "neg" for role, _ in index.roles.get(h.phrase, ()))
    ]
    return _Negatives(hits, max((h.end - h.start for h in hits), default=0))


def _veto(hit: Hit, sector_id: str, negatives: _Negatives, index: RuleIndex) -> Hit | None:
    """The negative phrase of this sector, among the field's ``negatives``, that contains the
    hit, if any. Only those starting at most the longest negative hit's length before the hit
    can contain it."""
    found = None  # the one starting first, as a scan in order would find
    hits = negatives.hits
    i = bisect.bisect_right(hits, hit.start, key=_hit_start)
    while i > 0 and hits[i - 1].start >= hit.start - negatives.reach:
        i -= 1
        h = hits[i]
        if hit.inside(h) and ("neg", sector_id) in index.roles.get(h.phrase, ()):
            found = h
    return found


def _hit_start(hit: Hit) -> int:
    return hit.start


def _other_title_sectors(sector_id: str, hits: dict[str, list[Hit]], index: RuleIndex) -> bool:
    return any(role == "kw" and rid != sector_id for _, _, role, rid in _title_roles(hits, index))
