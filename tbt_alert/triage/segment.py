"""Words for the full-text index: Chinese has no spaces, so runs of Chinese characters are cut
into words with jieba (imported only when a text has Chinese) and joined with spaces; every other
script is left to the database's own tokenizer."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from functools import cache

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def has_cjk(text: str) -> bool:
    return CJK_RUN.search(text) is not None


@cache
def _jieba() -> tuple[Callable[[str], Iterable[str]], Callable[[str], Iterable[str]]]:
    import jieba  # slow to import and to load its dictionary: only when Chinese is seen

    jieba.setLogLevel(logging.WARNING)
    return jieba.cut_for_search, jieba.cut


def _cut(text: str, *, for_index: bool) -> str:
    if not has_cjk(text):
        return text
    cut_for_search, cut = _jieba()
    cutter = cut_for_search if for_index else cut

    def words(match: re.Match[str]) -> str:
        return " " + " ".join(w for w in cutter(match.group(0)) if w.strip()) + " "

    return CJK_RUN.sub(words, text)


def index_text(text: str) -> str:
    """Text to index: Chinese cut into words and their parts (搜索引擎模式), so both
    '儿童玩具' and '玩具' find it."""
    return " ".join(_cut(text, for_index=True).split())


LONGEST_WORD = 8  # characters: longer Chinese words are rare and are indexed by their parts too


def _longest_match(run: str, known: Callable[[str], bool]) -> str:
    """Cut a run of Chinese into the longest words the index knows, left to right (a character
    no indexed word starts with stands alone, and then matches nothing, as it should)."""
    words, i = [], 0
    while i < len(run):
        for j in range(min(len(run), i + LONGEST_WORD), i, -1):
            if j - i == 1 or known(run[i:j]):
                words.append(run[i:j])
                i = j
                break
    return " " + " ".join(words) + " "


def query_words(query: str, known: Callable[[str], bool] | None = None) -> list[str]:
    """The words of a query; punctuation separates words. Chinese is cut with ``known`` (is this
    a word of the index?) when given, which spares loading jieba's dictionary, else with jieba."""
    if known is not None and has_cjk(query):
        cache: dict[str, bool] = {}

        def remembered(word: str) -> bool:
            if word not in cache:
                cache[word] = known(word)
            return cache[word]

        cut = CJK_RUN.sub(lambda m: _longest_match(m.group(0), remembered), query)
    else:
        cut = _cut(query, for_index=False)
    return [w for w in re.split(r"[^\w]+", cut) if w]
