"""Reasons for a reader: the classifier's and the risk assessment's reasons, in the reader's
language, without the internal scores. The classifier's own strings stay as they are for analysts
(``tbt-alert show``, ``classify``); this is the presentation layer for messages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Literal

Lang = Literal["zh", "en"]
Names = dict[str, tuple[str, str]]

FIELDS_ZH = {
    "title": "标题",
    "products covered": "产品范围",
    "description": "内容描述",
    "objective": "目的",
}
KINDS_ZH = {
    "ban or restriction": "禁止或限制",
    "testing and certification": "检测与认证",
    "labelling": "标签标识",
}
STRENGTH_ZH = {"strong": "直接", "weak": "间接"}

# (pattern, English, Chinese); None drops the reason from messages
Rule = tuple[
    re.Pattern[str],
    Callable[[re.Match[str], Names], str] | None,
    Callable[[re.Match[str], Names], str] | None,
]


def _name(names: Names, sector: str, lang: Lang) -> str:
    en, zh = names.get(sector, (sector, sector))
    return zh if lang == "zh" else en


RULES: list[Rule] = [
    (re.compile(r"^rule score [\d.]+$"), None, None),
    (re.compile(r"^-?\d+ points$"), None, None),
    (
        re.compile(r"^model score ([\d.]+)$"),
        lambda m, n: f"text model confidence {float(m[1]):.0%}",
        lambda m, n: f"文本模型置信度 {float(m[1]):.0%}",
    ),
    (
        re.compile(r"^(HS|ICS) (.+?) \((strong|weak) match for (\w+), prefix ([\d.]+)\)$"),
        lambda m, n: f"{m[1]} code {m[2]} ({m[3]} match with {_name(n, m[4], 'en')}, {m[5]})",
        lambda m, n: f"{m[1]}编码 {m[2]}（{STRENGTH_ZH[m[3]]}对应 {m[5]}）",
    ),
    (
        re.compile(r"^negative phrase '(.+)' vetoed '(.+)'$"),
        lambda m, n: f"'{m[2]}' not counted: the text says '{m[1]}'",
        lambda m, n: f"“{m[2]}”不计：文中为“{m[1]}”",
    ),
    (
        re.compile(r"^(?:weak )?phrase '(.+)' in (title|products covered|description|objective)$"),
        lambda m, n: f"'{m[1]}' in the {m[2]}",
        lambda m, n: f"{FIELDS_ZH[m[2]]}含“{m[1]}”",
    ),
    (
        re.compile(
            r"^'(.+)' \((\w+)\) with product word '(.+)' in (title|products covered|description|objective)$"
        ),
        lambda m, n: f"'{m[1]}' together with '{m[3]}' in the {m[4]}",
        lambda m, n: f"{FIELDS_ZH[m[4]]}中“{m[1]}”与产品词“{m[3]}”同时出现",
    ),
    (
        re.compile(r"^'(.+)' is quoted from the HS description of (\d+), outside (\w+)$"),
        lambda m, n: f"'{m[1]}' not counted: quoted from the HS description of {m[2]}",
        lambda m, n: f"“{m[1]}”不计：引自HS编码 {m[2]} 的描述",
    ),
    (
        re.compile(r"^the title names no products: description and objective weigh as title$"),
        lambda m, n: "the title names no products: the description was read in its place",
        lambda m, n: "标题未列产品：以说明内容代替标题",
    ),
    (
        re.compile(r"^the parent notification was alerted for this sector$"),
        lambda m, n: "the notification it amends concerns this sector",
        lambda m, n: "所修订的原通报涉及本行业",
    ),
    (
        re.compile(r"^codes halved: .*$"),
        lambda m, n: "codes weighed less: the text names other products",
        lambda m, n: "编码权重降低：文本所述产品不同",
    ),
    (
        re.compile(r"^major market for Wenzhou exports \((.+)\)$"),
        lambda m, n: f"major market for Wenzhou exports ({m[1]})",
        lambda m, n: f"温州出口主要市场（{m[1]}）",
    ),
    (
        re.compile(r"^significant market \((.+)\)$"),
        lambda m, n: f"significant market ({m[1]})",
        lambda m, n: f"重要市场（{m[1]}）",
    ),
    (
        re.compile(r"^smaller market \((.+)\)$"),
        lambda m, n: f"smaller market ({m[1]})",
        lambda m, n: f"较小市场（{m[1]}）",
    ),
    (
        re.compile(r"^mandatory regulation$"),
        lambda m, n: "mandatory regulation",
        lambda m, n: "强制性技术法规",
    ),
    (
        re.compile(r"^voluntary standard or unclear legal status$"),
        lambda m, n: "voluntary standard or legal status unclear",
        lambda m, n: "自愿性标准或法律性质不明",
    ),
    (
        re.compile(r"^comment period closes in (\d+) days \((.+)\)$"),
        lambda m, n: f"comment period closes in {m[1]} days ({m[2]})",
        lambda m, n: f"评议期 {m[1]} 天后（{m[2]}）截止",
    ),
    (
        re.compile(r"^comment period open until (.+) \((\d+) days\)$"),
        lambda m, n: f"comment period open until {m[1]} ({m[2]} days)",
        lambda m, n: f"评议期至 {m[1]}（剩余 {m[2]} 天）",
    ),
    (
        re.compile(r"^comment period closed on (.+)$"),
        lambda m, n: f"comment period closed on {m[1]}",
        lambda m, n: f"评议期已于 {m[1]} 截止",
    ),
    (
        re.compile(r"^entry into force (.+) \(within 6 months or passed\)$"),
        lambda m, n: f"enters into force {m[1]} (within 6 months)",
        lambda m, n: f"拟于 {m[1]} 生效（6个月内）",
    ),
    (
        re.compile(r"^measure kind: (.+)$"),
        lambda m, n: f"kind of measure: {m[1]}",
        lambda m, n: f"措施类型：{KINDS_ZH.get(m[1], m[1])}",
    ),
]


def explain(reasons: Iterable[str], lang: Lang, names: Names) -> list[str]:
    """Reasons a reader can use, in ``lang``; internal scores dropped; unknown ones kept as they are."""
    out: list[str] = []
    for reason in reasons:
        out.extend(_one(reason, lang, names))
    return list(dict.fromkeys(out))


INHERITED = re.compile(r"^inherited from parent (\S+): (.+)$")


def _one(reason: str, lang: Lang, names: Names) -> list[str]:
    inherited = INHERITED.match(reason)
    if inherited:  # an addendum read with its parent's scope
        head = f"原通报 {inherited[1]}：" if lang == "zh" else f"from {inherited[1]}: "
        return [head + r for r in _one(inherited[2], lang, names)]
    for pattern, en, zh in RULES:
        m = pattern.match(reason)
        if m is None:
            continue
        render = zh if lang == "zh" else en
        return [render(m, names)] if render is not None else []
    return [reason]


def known(reason: str) -> bool:
    """Whether a reason has a reader's wording (tests keep every reason the classifier gives known)."""
    inherited = INHERITED.match(reason)
    return known(inherited[2]) if inherited else any(p.match(reason) for p, _, _ in RULES)
