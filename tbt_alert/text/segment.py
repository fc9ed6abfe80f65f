"""Chinese word segmentation (jieba), so Chinese phrases match whole words, not substrings.

``words(text)`` cuts text into words with jieba's bundled dictionary plus a user dictionary of the
sector terms (``rules/zh_words.txt``, generated from ``rules/sectors.yaml`` by
:func:`tbt_alert.classify.userdict.user_words`), so 剩余电流 stays one word and 锁 is not found in
锁定 (lock-in) nor 笔 in 笔记本 (notebook). Segmentation uses jieba's dictionary path only (no HMM
guessing of unknown words): the same text and dictionary always give the same words.

The tokenizer is built on first use (jieba loads its dictionary in about a second, once per
process) and shared; each :class:`Segmenter` has its own user words.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
from collections.abc import Iterable
from typing import Any

from tbt_alert.resources import resource_dir

USER_DICT_NAME = "zh_words.txt"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def has_han(text: str) -> bool:
    """True when the text holds at least one Chinese character."""
    return _HAN.search(text) is not None


class Segmenter:
    """jieba with a fixed set of user words; lazy, thread-safe initialisation."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self.user_words = tuple(sorted({w.strip() for w in user_words if w.strip()}))
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, tuple[tuple[str, ...]]]:
        """Pickled as its user words (a saved model keeps its rules index, not jieba's state)."""
        return segmenter_for, (self.user_words,)

    def _get(self) -> Any:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    import jieba  # heavy: only when Chinese text is first seen

                    jieba.setLogLevel(logging.WARNING)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.initialize()
                    for word in self.user_words:
                        tokenizer.add_word(word)
                    self._tokenizer = tokenizer
        return self._tokenizer

    def words(self, text: str) -> list[str]:
        """The words of ``text`` in order; joined they give the text back."""
        if not text:
            return []
        if not has_han(text):
            return [text]
        return list(self._get().lcut(text, HMM=False))

    def run_cuts(self, run: str) -> list[int]:
        """Word ends inside one run of Han/alphanumeric characters (jieba cuts each run on its
        own): jieba's dictionary route, read directly, without its generator and block split.
        The same ends as :meth:`words` at every Chinese character."""
        tokenizer = self._get()
        get = tokenizer.FREQ.get
        log = math.log
        logtotal = log(tokenizer.total)
        alone = log(1) - logtotal  # a character that starts no word, before the rest's score
        n = len(run)
        # jieba's get_DAG and calc in one backward pass: for each start, the words of the
        # dictionary it begins (prefix walk: the dictionary holds every prefix of its words, some
        # with frequency 0), scored as calc scores them; the best (score, end) pair wins as in
        # calc's max(), the later end on a tie
        score: list[float] = [0.0] * (n + 1)
        end: list[int] = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            best_score, best_end = 0.0, -1
            i = k
            f = get(run[k])
            while f is not None:
                if f:
                    value = log(f) - logtotal + score[i + 1]
                    if best_end < 0 or value >= best_score:
                        best_score, best_end = value, i
                i += 1
                if i == n:
                    break
                f = get(run[k : i + 1])
            if best_end < 0:  # no word starts here: the character alone
                best_score, best_end = alone + score[k + 1], k
            score[k], end[k] = best_score, best_end
        out, x = [], 0
        while x < n:
            x = end[x] + 1
            out.append(x)
        return out

    def boundaries(self, text: str) -> set[int]:
        """Character offsets where a word starts or ends (0 and len(text) included)."""
        out, pos = {0}, 0
        for word in self.words(text):
            pos += len(word)
            out.add(pos)
        return out


def read_user_words() -> list[str]:
    """The shipped user dictionary (one word per line); empty when the file is missing."""
    path = resource_dir("rules") / USER_DICT_NAME
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.split()[0] for ln in lines if ln.strip() and not ln.startswith("#")]


@functools.cache
def segmenter_for(user_words: tuple[str, ...]) -> Segmenter:
    """One shared segmenter per set of user words (jieba's dictionary is loaded once for each)."""
    return Segmenter(user_words)


def default_segmenter() -> Segmenter:
    """The segmenter with the shipped sector user dictionary."""
    return segmenter_for(tuple(sorted(set(read_user_words()))))


def words(text: str) -> list[str]:
    """Words of ``text`` with jieba's dictionary and the shipped sector user dictionary."""
    return default_segmenter().words(text)
