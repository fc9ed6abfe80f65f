"""Multilingual phrase matching, compiled once.

* Text is normalised first: NFKC (full-width forms), traditional Chinese characters that matter for
  the sector vocabulary mapped to simplified ones, lower case.
* Latin-script and Cyrillic phrases (English, French, Spanish, Portuguese, Vietnamese, Russian)
  match on word boundaries; a space or a hyphen in a
  phrase matches any run of spaces and hyphens ("low voltage" = "low-voltage").
* Chinese phrases match words, not substrings: with a segmenter (:mod:`tbt_alert.text.segment`,
  jieba plus the sector terms as user words), a hit must end where a word ends, so 锁 is not found
  in 锁定 (lock-in) nor 笔 in 笔记本 (notebook computer). It may be the last part of a longer word,
  because Chinese compounds name a kind of their last part (儿童玩具 children's toys, 闸阀 gate
  valve). The exceptions (热泵 heat pump, 连锁 chain) are negative phrases: a hit lying inside a
  negative hit of the same sector is vetoed.
* All phrases go into one trie-shaped regular expression, so one scan per field finds every phrase
  starting at every position (overlapping hits included), whatever the vocabulary size.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from tbt_alert.text.segment import Segmenter, has_han

# Traditional -> simplified for the characters used in the sector vocabulary and its traps.
_T2S_PAIRS = (
    "類类 標标 簽签 電电 開开 關关 斷断 護护 裝装 紡纺 織织 飾饰 兒儿 遊游 樂乐 設设 備备 鏡镜 機机 "
    "閥阀 門门 龍龙 頭头 車车 輛辆 輪轮 燈灯 後后 視视 帶带 鎖锁 筆笔 記记 鉛铅 書书 寫写 運运 動动 "
    "涼凉 膠胶 鉻铬 價价 線线 纜缆 繼继 觸触 壓压 變变 離离 閘闸 減减 緊紧 釘钉 墊垫 鉚铆 絲丝 紙纸 "
    "編编 鋰锂 儲储 陽阳 須须 髮发 風风 禮礼 藝艺 節节 誕诞 錢钱 雙双 桿杆 紐纽 鏈链 鎳镍 釋释 輔辅 "
    "鞦秋 韆千 熱热 氣气 霧雾 島岛 臟脏 計计 號号 認认 證证 濾滤 淨净 剎刹 製制 震震 刮刮 漏漏 劑剂 "
    "塗涂 層层 錶表 儀仪 測测 試试 檢检 驗验 規规 範范 準准 險险 禁禁 權权 產产 體体 際际 國国 "
    "業业 傳传 導导 鑰钥 匙匙 櫃柜 盞盏 氫氢 療疗 醫医 藥药 劑剂 飲饮 與与 滅灭 廢废 舊旧 "
    "飛飞 檯台 燒烧 發发 裡里 軟软 滑滑 鬆松 閃闪 鋼钢 鐵铁 銅铜 鋁铝 錫锡 鎘镉 鉻铬 燭烛 "
    "調调 冷冷 熱热 噴喷 瓶瓶 罐罐 條条 網网 線线 圓圆 珠珠 蠟蜡 彩彩 貼贴 膜膜 紗纱 緞缎 "
    "絨绒 襪袜 裙裙 褲裤 衫衫 靴靴 鞋鞋 鬧闹 響响 聲声 鈕钮 鍵键 樞枢 鈴铃 攜携 攝摄 錄录 "
    "純纯 汽汽 輕轻 構构 緣缘 組组 件件 銷销 費费 務务 質质 環环 屬属 對对 應应 實实 將将 "
)
_T2S = str.maketrans({pair[0]: pair[1] for pair in _T2S_PAIRS.split() if pair[0] != pair[1]})
# the characters _T2S maps: most text holds none, and a search is cheaper than str.translate
_TRADITIONAL = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_T2S)) + "]")
_LATIN = "0-9a-zà-öø-ÿœ\u0100-\u024f\u1e00-\u1eff\u0400-\u04ff"  # Latin (Vietnamese too), Cyrillic
_SEP = "\x00"  # placeholder for 'any run of spaces/hyphens' inside a phrase
_END = "\x01"  # placeholder for 'end of a Latin word' after a phrase
_SEP_RE = re.compile(r"[\s\-‐‑–]+")
# 'no _LATIN character next', written as four look-aheads of at most two ranges each: the same
# test, but each set compiles quickly (it is in the pattern once per Latin phrase)
_NO_LATIN_NEXT = "(?![0-9a-z])(?![à-öø-ÿ])(?![\u0100-\u024f])(?![\u1e00-\u1eff\u0400-\u04ff])"
_IS_LATIN = re.compile(f"[{_LATIN}]")


def to_simplified(text: str) -> str:
    """Map the traditional characters the sector vocabulary needs to simplified ones."""
    return text.translate(_T2S)


def normalise_text(text: str | None) -> str:
    """NFKC, simplified Chinese, lower case, typographic apostrophes made plain."""
    if not text:
        return ""
    if text.isascii():  # NFKC, the character map and the apostrophes leave ASCII as it is
        return text.lower()
    text = unicodedata.normalize("NFKC", text)
    if _TRADITIONAL.search(text):
        text = text.translate(_T2S)
    text = text.lower()
    return text.replace("’", "'").replace("‘", "'")


def phrase_key(phrase: str) -> str:
    """The form a phrase and a matched span share: normalised, separators collapsed."""
    return _SEP_RE.sub(" ", normalise_text(phrase)).strip()


@dataclass(frozen=True, slots=True)
class Hit:
    phrase: str  # phrase_key form
    start: int
    end: int

    def inside(self, other: Hit) -> bool:
        """True when this hit lies within the other's span (equal spans included)."""
        return other.start <= self.start and self.end <= other.end


def _tokens(phrase: str) -> list[str]:
    key = phrase_key(phrase)
    tokens = [_SEP if ch == " " else ch for ch in key]
    if _IS_LATIN.match(key[-1]):
        tokens.append(_END)
    return tokens


Trie = dict[str, "Trie"]


def _trie_branches(node: Trie) -> list[str]:
    """One pattern per child of the node, in order."""
    branches = []
    for part, child in sorted(node.items()):
        if part == "":
            continue
        if part == _SEP:
            head = r"[\s\-‐‑–]+"
        elif part == _END:
            head = _NO_LATIN_NEXT
        else:
            head = re.escape(part)
        branches.append(head + _trie_regex(child))
    return branches


def _trie_regex(node: Trie) -> str:
    branches = _trie_branches(node)
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        return f"(?:{body})?"
    return body


class PhraseMatcher:
    """Finds every phrase of a fixed vocabulary in normalised text, overlapping hits included."""

    def __init__(self, phrases: Iterable[str], segmenter: Segmenter | None = None) -> None:
        self.segmenter = segmenter
        keys = sorted({phrase_key(p) for p in phrases if phrase_key(p)})
        self.phrases = frozenset(keys)
        latin: Trie = {}
        other: Trie = {}
        for key in keys:
            node = latin if _IS_LATIN.match(key[0]) else other
            for token in _tokens(key):
                node = node.setdefault(token, {})
            node[""] = {}
        # Latin phrases and the others never share a first character: two scans, each finding
        # what one alternation of both would. The Latin one opens with a look-ahead at its
        # phrases' first characters (one set test at each position instead of trying every first
        # character in turn); the other one with one plain-character alternative per first
        # character, so the engine skips to the positions of those characters (most text holds
        # none: Latin text is then passed over at the speed of a set test)
        self._latin = (
            re.compile(f"(?<![{_LATIN}])" + _first(latin) + _wrap(_trie_regex(latin)))
            if latin
            else None
        )
        self._other = re.compile("|".join(_trie_branches(other))) if other else None

    def __setstate__(self, state: dict[str, object]) -> None:
        """A matcher pickled by an earlier version (one pattern for all phrases, as in a saved
        model's rules index) is compiled again in the current form."""
        if "_latin" in state:
            self.__dict__.update(state)
        else:
            self.__init__(state["phrases"], state.get("segmenter"))  # type: ignore[misc]

    def find(self, text: str) -> list[Hit]:
        """Hits in already normalised text (see normalise_text): the longest at each start."""
        hits: list[Hit] = []
        if self._latin is not None:
            hits += self._scan(self._latin, text)
        if self._other is not None:
            other = self._scan(self._other, text)
            if other:
                hits = sorted(hits + other, key=_start) if hits else other
        if self.segmenter is None or not any(has_han(h.phrase) for h in hits):
            return hits
        return _whole_words(hits, text, self.segmenter)

    def _scan(self, pattern: re.Pattern[str], text: str) -> list[Hit]:
        """The phrases of one pattern at every start (overlapping), the longest at each."""
        hits: list[Hit] = []
        search = pattern.search
        pos = 0
        while True:
            m = search(text, pos)
            if m is None:
                break
            if m.end() > m.start():
                key = _SEP_RE.sub(" ", m.group(0)).strip()
                if key in self.phrases:
                    hits.append(Hit(key, m.start(), m.end()))
            pos = m.start() + 1
        return hits


def _start(hit: Hit) -> int:
    return hit.start


# jieba cuts each run of these characters on its own (its re_han_default): a run is the context
# that decides the words, so only the runs holding a Chinese hit need segmenting
_RUN = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]+")


def _whole_words(hits: list[Hit], text: str, segmenter: Segmenter) -> list[Hit]:
    cuts: set[int] = set()
    done: set[int] = set()
    for h in hits:
        if not has_han(h.phrase):
            continue
        # the runs holding the hit's first and last characters (one run for a Chinese phrase;
        # two, or one, for a Japanese one that mixes kana and kanji: ガス栓, 眼鏡フレーム)
        for edge in (h.start, h.end - 1):
            if edge in done or not _RUN.match(text[edge]):
                continue
            start = edge
            while start > 0 and _RUN.match(text[start - 1]):
                start -= 1
            run = _RUN.match(text, start)
            if run is None:
                continue
            cuts.add(run.start())
            cuts.add(run.end())
            if run.start() == h.start and run.end() == h.end:
                continue  # the hit is the whole run: its own edges are word edges
            done.update(range(run.start(), run.end()))
            cuts.update(run.start() + end for end in segmenter.run_cuts(run.group(0)))
    return [h for h in hits if not has_han(h.phrase) or _on_words(h, text, cuts)]


def _on_words(hit: Hit, text: str, cuts: set[int]) -> bool:
    """A Chinese hit must end where a word ends; it may start inside that word (the phrase is the
    word's head: 儿童玩具 is a kind of 玩具, 闸阀 a kind of 阀), never end inside one (锁 in 锁定,
    笔 in 笔记本, 电池 in 电池盒 are other words)."""
    if has_han(text[hit.end - 1]) and hit.end not in cuts:
        return False
    if has_han(text[hit.start]) and hit.start not in cuts:
        return has_han(text[hit.end - 1])  # a head-final compound: the hit is its last part
    return True


def _first(node: Trie) -> str:
    """A look-ahead for the first characters of a trie's phrases."""
    return "(?=[" + "".join(re.escape(ch) for ch in sorted(node)) + "])"


def _wrap(pattern: str) -> str:
    return f"(?:{pattern})"
