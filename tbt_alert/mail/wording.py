"""The message catalogue: how each kind of reason reads, in Chinese and in English.

One entry per kind of :class:`~tbt_alert.classify.reasons.Reason` (and per variant where the
kind's ``strength`` or ``detail["why"]`` changes the sentence). Entries are ``str.format`` patterns
over the reason's fields; ``None`` means readers of messages do not see that kind (internal scores),
while analysts (``internal=True``) do. Nothing here reads a sentence back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from tbt_alert.classify.reasons import Reason, ReasonKind

Lang = Literal["zh", "en"]
Names = Mapping[str, tuple[str, str]]
Entry = tuple[str | None, str | None]  # (en, zh)

FIELDS: dict[str, tuple[str, str]] = {
    "title": ("title", "标题"),
    "products_text": ("products covered", "产品范围"),
    "description": ("description", "内容描述"),
    "objective": ("objective", "目的"),
}
STRENGTHS: dict[str, tuple[str, str]] = {"strong": ("strong", "直接"), "weak": ("weak", "间接")}
MEASURE_KINDS: dict[str, tuple[str, str]] = {
    "ban": ("ban or restriction", "禁止或限制"),
    "testing": ("testing and certification", "检测与认证"),
    "labelling": ("labelling", "标签标识"),
}

CATALOGUE: dict[str, Entry] = {
    "hs": (
        "HS code {value} ({strength} match with {sector}, {prefix})",
        "HS编码 {value}（{strength}对应 {prefix}）",
    ),
    "hs.quoted": (
        "the description of HS {value} is quoted ({strength} match with {sector}, {prefix})",
        "文中引用HS编码 {value} 的品目描述（{strength}对应 {prefix}）",
    ),
    "ics": (
        "ICS code {value} ({strength} match with {sector}, {prefix})",
        "ICS编码 {value}（{strength}对应 {prefix}）",
    ),
    "phrase": ("'{value}' in the {field}", "{field}含“{value}”"),
    "weak_phrase": ("'{value}' in the {field}", "{field}含“{value}”"),
    "cross": (
        "'{trigger}' together with '{value}' in the {field}",
        "{field}中“{trigger}”与产品词“{value}”同时出现",
    ),
    "veto": ("'{value}' not counted: the text says '{by}'", "“{value}”不计：文中为“{by}”"),
    "codes_doubted.other_products": (
        "codes weighed less: the text names other products",
        "编码权重降低：文本所述产品不同",
    ),
    "codes_doubted.codes_elsewhere": (
        "codes weighed less: only {own} of {total} HS codes point at {sector}",
        "编码权重降低：{total} 个HS编码中仅 {own} 个对应本行业",
    ),
    "codes_doubted.trap": (
        "codes weighed less: the {field} names '{value}', which is not {sector}",
        "编码权重降低：{field}所指“{value}”不属于本行业",
    ),
    "codes_doubted.domain": (
        "evidence weighed less: the {field} names {value}, which usually concerns no sector",
        "证据权重降低：{field}所指的“{value}”通常不属于本地行业",
    ),
    "hs_description": (
        "'{value}' not counted: quoted from the description of HS {heading}",
        "“{value}”不计：引自HS {heading} 的品目描述",
    ),
    "lexicon": ("'{value}' is a product of HS heading {heading}", "“{value}”属HS品目 {heading}"),
    "hs_retrieved": (
        "the products read like HS {value} (shared words: {words})",
        "产品描述与HS {value} 的品目描述相近（共有词：{words}）",
    ),
    "hs_retrieved.against": (
        "evidence weighed less: the products read like HS {value}, outside {sector} "
        "(shared words: {words})",
        "证据权重降低：产品描述更接近本行业以外的HS {value}（共有词：{words}）",
    ),
    "model": ("text model confidence {percent}", "文本模型置信度 {percent}"),
    "inherited": ("scope taken from the notification {value}", "沿用原通报 {value} 的产品范围"),
    "thin_title": (
        "the title names no products: the description was read in its place",
        "标题未列产品：以说明内容代替标题",
    ),
    "horizontal": ("horizontal measure: '{value}'", "横向措施：“{value}”"),
    "language": (
        "no product vocabulary in {value}: read with the English rules",
        "{value} 无专门产品词表：按英文规则判断",
    ),
    "market.major": ("major market for Wenzhou exports ({value})", "温州出口主要市场（{value}）"),
    "market.significant": ("significant market ({value})", "重要市场（{value}）"),
    "market.smaller": ("smaller market ({value})", "较小市场（{value}）"),
    "mandatory": ("mandatory regulation", "强制性技术法规"),
    "voluntary": ("voluntary standard or legal status unclear", "自愿性标准或法律性质不明"),
    "measure_kind": ("kind of measure: {measure}", "措施类型：{measure}"),
    "entry_into_force": (
        "enters into force {value} (within 6 months)",
        "拟于 {value} 生效（6个月内）",
    ),
    "comment_period.closing": (
        "comment period closes in {days} days ({value})",
        "评议期 {days} 天后（{value}）截止",
    ),
    "comment_period.open": (
        "comment period open until {value} ({days} days)",
        "评议期至 {value}（剩余 {days} 天）",
    ),
    "comment_period.closed": ("comment period closed on {value}", "评议期已于 {value} 截止"),
    "legacy": ("{value}", "{value}"),
}
# kinds only analysts see (messages leave them out)
INTERNAL: dict[str, Entry] = {"rule_score": ("rule score {value}", "规则得分 {value}")}
INHERITED_HEAD: Entry = ("from {parent}: ", "原通报 {parent}：")


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"  # a detail the entry needs is missing: visible, never a crash mid-send


def entry_key(reason: Reason) -> str:
    """The catalogue key of a reason: its kind, with the variant where the kind has several."""
    if reason.kind in (ReasonKind.MARKET, ReasonKind.COMMENT_PERIOD):
        return f"{reason.kind.value}.{reason.strength}"
    if reason.kind == ReasonKind.HS and reason.detail.get("why") == "quoted":
        return "hs.quoted"
    if reason.kind == ReasonKind.HS_RETRIEVED and reason.strength == "against":
        return "hs_retrieved.against"
    if reason.kind == ReasonKind.CODES_DOUBTED:
        return f"{reason.kind.value}.{reason.detail.get('why', 'other_products')}"
    return reason.kind.value


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if lang == "zh" else pair[0]


def _params(reason: Reason, lang: Lang, names: Names) -> _Params:
    out = _Params(reason.detail)
    out["value"] = reason.value
    sector = reason.sector or ""
    out["sector"] = _pick(names.get(sector, (sector, sector)), lang)
    field = reason.field or ""
    out["field"] = _pick(FIELDS.get(field, (field, field)), lang)
    strength = reason.strength or ""
    out["strength"] = _pick(STRENGTHS.get(strength, (strength, strength)), lang)
    kind = MEASURE_KINDS.get(reason.value, (reason.value, reason.value))
    out["measure"] = _pick(kind, lang)
    try:
        out["percent"] = f"{float(reason.value):.0%}"
    except ValueError:
        out["percent"] = reason.value
    return out


def word(reason: Reason, lang: Lang, names: Names, *, internal: bool = False) -> str | None:
    """One reason in ``lang``; None when readers of ``lang`` do not see it."""
    key = entry_key(reason)
    entry = CATALOGUE.get(key) or (INTERNAL.get(key) if internal else None)
    if entry is None:
        if key in INTERNAL:
            return None
        raise ValueError(f"no wording for reason kind {key!r}")
    pattern = entry[1] if lang == "zh" else entry[0]
    if pattern is None:
        return None
    text = pattern.format_map(_params(reason, lang, names))
    parent = reason.inherited_from
    if parent is not None:
        head = INHERITED_HEAD[1] if lang == "zh" else INHERITED_HEAD[0]
        text = (head or "").format(parent=parent) + text
    return text


def worded(key: str) -> bool:
    """Whether a catalogue key has a wording in both languages (tests keep every kind worded)."""
    entry = CATALOGUE.get(key) or INTERNAL.get(key)
    return entry is not None and all(entry)
