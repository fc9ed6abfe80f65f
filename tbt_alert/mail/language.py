"""The reader's language: a notification's title and summary in Chinese or English.

In order: the original when it is already in the reader's language; a version a source gave in
that language (:mod:`tbt_alert.store.versions`); a machine translation, when a backend is set up
(marked as such); else the original, with a line saying no translation exists.

One small interface for machine translation, :class:`Translator`; :class:`LibreTranslate` speaks
to a self-hosted LibreTranslate (``POST /translate``). It never fails a message: a timeout, an
error or a strange answer gives None, and after a failure the service is left alone for a while.
Each text is translated once: answers are kept in a JSON-lines cache file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import requests

from tbt_alert.config import TranslateConfig
from tbt_alert.mail.render import excerpt
from tbt_alert.store.versions import Version, title_language

log = logging.getLogger(__name__)
Lang = Literal["zh", "en"]
MAX_CHARS = 5000  # longest text sent for translation (summaries are shown as excerpts anyway)
NAMES: dict[Lang, dict[str, str]] = {
    "zh": {"en": "英文", "zh": "中文", "fr": "法文", "es": "西班牙文"},
    "en": {"en": "English", "zh": "Chinese", "fr": "French", "es": "Spanish"},
}
NOTES: dict[Lang, dict[str, str]] = {
    "zh": {
        "original": "标题和摘要为{name}原文，暂无中文译文。",
        "machine": "标题和摘要由{name}原文机器翻译，仅供参考。",
    },
    "en": {
        "original": "Title and summary in the original {name}; no English translation exists.",
        "machine": "Title and summary machine-translated from the original {name}.",
    },
}


@dataclass(frozen=True)
class Localised:
    title: str
    description: str
    note: str | None  # None when shown in the reader's language as a source gave it


class Translator(Protocol):
    def translate(self, text: str, source: str, target: str) -> str | None:
        """``text`` in ``target`` (language codes), or None when it cannot be had now."""


class LibreTranslate:
    """A LibreTranslate server; answers cached in ``cache_path`` (one JSON object a line)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        api_key: str = "",
        cache_path: Path | None = None,
        pause_after_failure: float = 300.0,
    ) -> None:
        self.endpoint = url.rstrip("/") + "/translate"
        self.timeout, self.api_key = timeout, api_key
        self.cache_path, self.pause = cache_path, pause_after_failure
        self.requests = 0  # calls made to the service: for the operator's log and the tests
        self._cache: dict[str, str] = {}
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._http = requests.Session()
        if cache_path is not None and cache_path.exists():
            self._load(cache_path)

    def _load(self, path: Path) -> None:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash: the text is translated again
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                self._cache[str(item.get("key"))] = item["text"]

    @staticmethod
    def key(text: str, source: str, target: str) -> str:
        return hashlib.sha256(f"{source}\0{target}\0{text}".encode()).hexdigest()

    def translate(self, text: str, source: str, target: str) -> str | None:
        text = text.strip()[:MAX_CHARS]
        if not text or source == target:
            return text or None
        key = self.key(text, source, target)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            if time.monotonic() < self._down_until:
                return None
            answer = self._ask(text, source, target)
            if answer is None:
                self._down_until = time.monotonic() + self.pause
                return None
            self._cache[key] = answer
            if self.cache_path is not None:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                with self.cache_path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"key": key, "text": answer}, ensure_ascii=False) + "\n")
            return answer

    def _ask(self, text: str, source: str, target: str) -> str | None:
        body = {"q": text, "source": source, "target": target, "format": "text"}
        if self.api_key:
            body["api_key"] = self.api_key
        self.requests += 1
        try:
            response = self._http.post(self.endpoint, json=body, timeout=self.timeout)
            data = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError) as e:
            log.warning("translation service unavailable: %s", e.__class__.__name__)
            return None
        answer = data.get("translatedText") if isinstance(data, dict) else None
        if not isinstance(answer, str) or not answer.strip():
            log.warning(
                "translation service answered %s without a translation", response.status_code
            )
            return None
        return answer.strip()[: MAX_CHARS * 4]


def localise(
    *,
    title: str,
    description: str,
    language: str | None,
    versions: Mapping[str, Version],
    lang: Lang,
    translator: Translator | None = None,
) -> Localised:
    """Title and summary for a reader of ``lang`` (see the module's docstring for the order)."""
    original = title_language(language, title)
    if original == lang:
        return Localised(title, description, None)
    given = versions.get(lang)
    if given is not None:
        return Localised(given.title, given.description or description, None)
    name = NAMES[lang].get(original, original)
    if translator is not None:
        new_title = translator.translate(title, original, lang)
        summary = excerpt(description, MAX_CHARS) if description else ""
        new_summary = translator.translate(summary, original, lang) if summary else ""
        if new_title and new_summary is not None:
            return Localised(new_title, new_summary, NOTES[lang]["machine"].format(name=name))
    return Localised(title, description, NOTES[lang]["original"].format(name=name))


def translator_from(config: TranslateConfig, cache_path: Path) -> Translator | None:
    """The configured machine translation (``[translate] url``), or None when it is off."""
    if not config.enabled:
        return None
    return LibreTranslate(
        config.url, timeout=config.timeout_s, api_key=config.api_key, cache_path=cache_path
    )
