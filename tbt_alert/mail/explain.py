"""Reasons for a reader: the classifier's and the risk assessment's stored reasons, worded in the
reader's language from the message catalogue (:mod:`tbt_alert.mail.wording`), internal scores left
out. Stored reasons are data (:func:`~tbt_alert.classify.reasons.reason_from_json`); a sentence
stored by an earlier version is shown as it is."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tbt_alert.classify.reasons import Reason, reason_from_json
from tbt_alert.mail.wording import Lang, Names, word


def explain(
    reasons: Iterable[Reason | Any], lang: Lang, names: Names, *, internal: bool = False
) -> list[str]:
    """Reasons a reader can use, in ``lang``, each once; ``internal`` keeps the analysts' scores."""
    out: list[str] = []
    for value in reasons:
        reason = value if isinstance(value, Reason) else reason_from_json(value)
        text = word(reason, lang, names, internal=internal)
        if text is not None:
            out.append(text)
    return list(dict.fromkeys(out))
