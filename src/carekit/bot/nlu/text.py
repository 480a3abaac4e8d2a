"""Language detection and normalization (Russian lemmas with pymorphy3, English Snowball stems)."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

# Long messages are cut before analysis: the first few hundred words carry the intent, and a
# 10,000-character paste must not cost seconds of morphology.
MAX_CHARS = 1000

_TOKEN_RE = re.compile(r"[a-zа-яё]+|\d+", re.IGNORECASE)
_CYRILLIC_RE = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN_RE = re.compile(r"[a-z]", re.IGNORECASE)


def detect_language(text: str, default: str = "en") -> str:
    """`ru` or `en` by script: Russian wins whenever Cyrillic letters are a real share of the text,
    because mixed messages ("хочу return эту кофту") come from Russian speakers."""
    cyr = len(_CYRILLIC_RE.findall(text[:MAX_CHARS]))
    lat = len(_LATIN_RE.findall(text[:MAX_CHARS]))
    if cyr == 0 and lat == 0:
        return default
    return "ru" if cyr >= 0.3 * (cyr + lat) else "en"


def clean(text: str) -> str:
    return text[:MAX_CHARS].lower().replace("ё", "е")


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(clean(text))


@lru_cache(maxsize=1)
def _morph() -> Any:
    import pymorphy3

    # It logs every dictionary load at INFO, once per process: noise in command output.
    logging.getLogger("pymorphy3").setLevel(logging.WARNING)
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def normal_form(token: str) -> str:
    if token.isdigit():
        # Order numbers, sizes and amounts differ per message; their length is the useful signal.
        return "num" if len(token) >= 4 else "smallnum"
    if _CYRILLIC_RE.match(token):
        return str(_morph().parse(token)[0].normal_form).replace("ё", "е")
    return str(_stemmer().stemWord(token))


def normalize(text: str) -> str:
    """Space-separated normal forms: what word features and the knowledge-base index see."""
    return " ".join(normal_form(t) for t in tokens(text))
