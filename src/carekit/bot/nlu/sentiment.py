"""Sentiment (negative / neutral / positive) for Russian and English.

A small linear model over word n-grams plus lexicon counts. The lexicon carries most of the weight:
the project's training set is small, and words like "ужасно" or "awful" mean the same thing in any
shop. Negation ("не понравилось", "not happy") flips the next two words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from carekit.bot.nlu.text import normal_form, tokens

LABELS = ("negative", "neutral", "positive")

_NEGATIVE_WORDS = """
ужасный ужасно ужас отвратительный отвратительно кошмар кошмарный безобразие безобразный плохой плохо
худший хуже обман обмануть обманщик мошенник разочаровать разочарованный разочарование недовольный
злой злиться бесить надоесть позор издевательство хамство хамить нахамить грубый грубить отстой
испорченный бракованный сломаться порваться порвать возмутительно возмутительный наглость задолбать
бесполезный бардак неприемлемый никогда опоздать жаловаться жалоба развод беспредел отвратно гадость
terrible terribly awful horrible horribly worst worse bad angry furious scam scammed disappointed
disappointing unacceptable rude useless broken ridiculous hate poor never nobody annoyed annoying
upset complaint disgusting pathetic fraud waste unhappy dissatisfied late mess
"""
_POSITIVE_WORDS = """
отличный отлично прекрасный прекрасно супер класс классный спасибо благодарить благодарный довольный
нравиться понравиться любить обожать лучший молодец рекомендовать великолепный замечательный вежливый
приятный приятно идеально идеальный круто крутой восторг четкий хороший хорошо удобный шикарный
great excellent amazing awesome wonderful perfect perfectly love loved happy pleased thanks thank
best fantastic recommend friendly fast quick helpful nice good brilliant satisfied superb
"""
_NEGATORS = {"не", "нет", "ни", "not", "no", "never", "dont", "didnt", "isnt", "wasnt", "t"}


@lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], frozenset[str]]:
    neg = frozenset(normal_form(w) for w in _NEGATIVE_WORDS.split())
    pos = frozenset(normal_form(w) for w in _POSITIVE_WORDS.split())
    return neg, pos - neg


def lexicon_counts(text: str) -> tuple[int, int]:
    """(negative, positive) hits, with negation flipping the polarity of the next two words."""
    neg_words, pos_words = _lexicon()
    neg = pos = 0
    flip = 0
    for tok in tokens(text):
        form = normal_form(tok)
        if tok in _NEGATORS:
            flip = 2
            continue
        polarity = 1 if form in pos_words else -1 if form in neg_words else 0
        if flip and polarity:
            polarity = -polarity
        if polarity > 0:
            pos += 1
        elif polarity < 0:
            neg += 1
        flip = max(0, flip - 1)
    return neg, pos


def _lexicon_features(texts: Sequence[str]) -> sparse.csr_matrix:
    rows = []
    for t in texts:
        neg, pos = lexicon_counts(t)
        rows.append([min(neg, 3), min(pos, 3), float(neg > pos), float(pos > neg), float("!" in t)])
    return sparse.csr_matrix(np.asarray(rows, dtype=np.float32))


@dataclass(frozen=True)
class SentimentResult:
    label: str
    score: float  # P(positive) - P(negative), in [-1, 1]


class SentimentModel:
    def __init__(self, C: float = 3.0) -> None:
        from carekit.bot.nlu.intents import word_ngrams

        self._words = TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, dtype=np.float32)
        self._clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")

    def _x(self, texts: Sequence[str], fit: bool = False) -> sparse.csr_matrix:
        words = self._words.fit_transform(texts) if fit else self._words.transform(texts)
        return sparse.hstack([words, _lexicon_features(texts)], format="csr")

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> SentimentModel:
        self._clf.fit(self._x(texts, fit=True), list(labels))
        return self

    def predict(self, texts: Sequence[str]) -> list[SentimentResult]:
        if not texts:
            return []
        probs = self._clf.predict_proba(self._x(texts))
        classes = list(self._clf.classes_)
        out = []
        for row in probs:
            score = float(row[classes.index("positive")] - row[classes.index("negative")])
            out.append(SentimentResult(str(classes[int(row.argmax())]), round(score, 3)))
        return out
