"""Ranking articles for a question: BM25 over analyzed terms, with typo tolerance.

The index is built in Python from a workspace's published articles and cached per workspace until
an article changes, so one code path serves SQLite and PostgreSQL alike (ADR 0801). A help center
holds hundreds to a few thousand articles; at that size this is faster than a database round trip
per term, and it lets Russian morphology and synonyms work the same on both databases.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from carekit.knowledge.analysis import edit_distance, terms

K1 = 1.2
B = 0.75
TITLE_BOOST = 3


@dataclass(frozen=True)
class Doc:
    key: str
    language: str
    title: str
    body: str
    keywords: str = ""


@dataclass(frozen=True)
class Hit:
    key: str
    score: float
    snippet: str
    coverage: float  # share of the question's terms found in the article (0..1)


class SearchIndex:
    def __init__(self, docs: list[Doc]) -> None:
        self.docs = {d.key: d for d in docs}
        self._tf: dict[str, Counter[str]] = {}
        self._len: dict[str, int] = {}
        self._df: dict[str, Counter[str]] = {}  # per language
        self._n: Counter[str] = Counter()
        for d in docs:
            words = terms(d.title) * TITLE_BOOST + terms(d.body) + terms(d.keywords) * TITLE_BOOST
            tf = Counter(words)
            self._tf[d.key] = tf
            self._len[d.key] = len(words)
            self._df.setdefault(d.language, Counter()).update(tf.keys())
            self._n[d.language] += 1
        self._avg = {
            lang: sum(self._len[k] for k, d in self.docs.items() if d.language == lang) / max(n, 1)
            for lang, n in self._n.items()
        }

    def _resolve(self, term: str, language: str) -> list[tuple[str, float]]:
        """The term itself if indexed; otherwise close spellings, weighted down by their distance."""
        df = self._df.get(language, Counter())
        if term in df or len(term) < 4:
            return [(term, 1.0)]
        limit = 1 if len(term) < 7 else 2
        close = []
        for known in df:
            d = edit_distance(term, known, limit)
            if d <= limit:
                close.append((known, 1.0 / (1 + d)))
        return close or [(term, 1.0)]

    def search(self, query: str, language: str, limit: int = 5) -> list[Hit]:
        n = self._n.get(language, 0)
        if not n:
            return []
        df = self._df[language]
        weights: dict[str, float] = {}
        for term in terms(query):
            for known, w in self._resolve(term, language):
                weights[known] = max(weights.get(known, 0.0), w)
        scores: dict[str, float] = {}
        matched: dict[str, set[str]] = {}
        origin = {known: term for term in set(terms(query)) for known, _ in self._resolve(term, language)}
        for term, w in weights.items():
            if term not in df:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            for key, tf in self._tf.items():
                f = tf.get(term)
                if not f or self.docs[key].language != language:
                    continue
                norm = f * (K1 + 1) / (f + K1 * (1 - B + B * self._len[key] / self._avg[language]))
                scores[key] = scores.get(key, 0.0) + w * idf * norm
                matched.setdefault(key, set()).add(origin.get(term, term))
        asked = max(len(set(terms(query))), 1)
        return [
            Hit(
                key,
                round(s, 4),
                snippet(self.docs[key].body, set(weights)),
                round(len(matched[key]) / asked, 3),
            )
            for key, s in sorted(scores.items(), key=lambda kv: -kv[1])[:limit]
        ]


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def snippet(body: str, wanted: set[str], max_chars: int = 240) -> str:
    """The sentence of the body that shares most terms with the question."""
    sentences = [s for s in _SENTENCE.split(body.strip()) if s] or [body]
    best = max(sentences, key=lambda s: len(wanted.intersection(terms(s))))
    return best if len(best) <= max_chars else best[: max_chars - 1].rstrip() + "…"
