"""The intent classifier: TF-IDF word and character n-grams into a linear SVM, with confidences
calibrated on out-of-fold scores and an out-of-scope threshold chosen on the training data only.

Every choice (feature set, C, temperature, threshold) is made by cross-validation on the examples
passed to `IntentModel.fit`; nothing is ever tuned on the data a model is scored on.
"""

from __future__ import annotations

import io
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import joblib
import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from carekit.bot.nlu.text import clean, normalize

FORMAT_VERSION = 1
# (features, weight of the character block, C, learner): a small grid, because every point costs k fits.
GRID: tuple[tuple[str, float, float, str], ...] = (
    ("word+char", 1.0, 0.5, "svm"),
    ("word+char", 1.0, 1.0, "svm"),
    ("word+char", 1.0, 2.0, "svm"),
    ("word+char", 1.5, 1.0, "svm"),
    ("word", 1.0, 1.0, "svm"),
    ("char", 1.0, 1.0, "svm"),
)
# Logistic regression did better than the SVM with ten examples per intent (measured by
# cross-validation inside Banking77's training split), but one fit on thousands of examples costs
# tens of seconds on two cores, so it is tried only on small training sets.
SMALL_GRID = (
    ("word+char", 1.0, 20.0, "lr"),
    ("word+char", 1.5, 20.0, "lr"),
)
SMALL = 3000


def _fit(clf: LinearSVC | LogisticRegression, X: sparse.csr_matrix, y: np.ndarray) -> Any:
    with warnings.catch_warnings():
        # An early stop at max_iter is the chosen speed/accuracy trade-off, not a fault to report.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


def _learner(kind: str, c: float, seed: int) -> LinearSVC | LogisticRegression:
    if kind == "lr":
        # saga with a loose tolerance: within half a point of lbfgs here, and five times faster.
        return LogisticRegression(C=c, solver="saga", max_iter=200, tol=1e-3, random_state=seed)
    return LinearSVC(C=c, random_state=seed)


MAX_IN_SCOPE_LOSS = 0.01
TEMPERATURES = tuple(float(t) for t in np.geomspace(0.5, 200, 60))


def word_ngrams(text: str) -> list[str]:
    """Normal forms (lemmas, stems) with their bigrams and trigrams."""
    w = normalize(text).split()
    return (
        w
        + [f"{a} {b}" for a, b in pairwise(w)]
        + [f"{a} {b} {c}" for a, b, c in zip(w, w[1:], w[2:], strict=False)]
    )


def _word_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, dtype=np.float32)


def _char_vectorizer() -> TfidfVectorizer:
    # Character n-grams inside word boundaries carry typos, slang and unknown inflections.
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        preprocessor=clean,
        sublinear_tf=True,
        min_df=2,
        dtype=np.float32,
    )


def _stack(blocks: dict[str, sparse.csr_matrix], features: str, char_weight: float) -> sparse.csr_matrix:
    parts = []
    if "word" in features:
        parts.append(blocks["word"])
    if "char" in features:
        parts.append(blocks["char"] * char_weight)
    return sparse.hstack(parts, format="csr")


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores * temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    out_of_scope: bool


@dataclass
class IntentModel:
    """A trained classifier and the figures of how it was chosen."""

    oos_label: str | None = None
    features: str = "word+char"
    char_weight: float = 1.0
    C: float = 1.0
    learner: str = "svm"
    temperature: float = 10.0
    threshold: float = 0.0
    classes: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    _vectorizers: dict[str, TfidfVectorizer] = field(default_factory=dict, repr=False)
    _clf: LinearSVC | LogisticRegression | None = field(default=None, repr=False)

    # --- training ---------------------------------------------------------------------------------

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], *, seed: int = 0, folds: int = 5
    ) -> IntentModel:
        started = time.perf_counter()
        self.figures = {}
        y = np.asarray(labels)
        counts = Counter(labels)
        k = min(folds if len(texts) < 3000 else 3, min(counts.values()))
        self._vectorizers = {"word": _word_vectorizer(), "char": _char_vectorizer()}
        # The vocabulary and IDF come from the whole training file; the test file is never seen.
        blocks = {name: v.fit_transform(texts) for name, v in self._vectorizers.items()}
        search: list[dict[str, Any]] = []
        best: tuple[float, tuple[str, float, float, str], np.ndarray | None] = (-1.0, GRID[0], None)
        if k >= 2 and len(counts) >= 2:
            classes = sorted(counts)
            for point in GRID + (SMALL_GRID if len(texts) < SMALL else ()):
                features, weight, c, learner = point
                oof = self._out_of_fold(_stack(blocks, features, weight), y, c, learner, k, seed)
                acc = float(np.mean(np.asarray(classes)[oof.argmax(axis=1)] == y))
                search.append(
                    {
                        "features": features,
                        "char_weight": weight,
                        "C": c,
                        "learner": learner,
                        "cv_accuracy": round(acc, 4),
                    }
                )
                if acc > best[0]:
                    best = (acc, point, oof)
        self.features, self.char_weight, self.C, self.learner = best[1]
        X = _stack(blocks, self.features, self.char_weight)
        self._clf = _fit(_learner(self.learner, self.C, seed), X, y)
        self.classes = [str(c) for c in self._clf.classes_]
        calibration: dict[str, Any] = {}
        if best[2] is not None:
            calibration = self._calibrate(best[2], y)
        self.figures = {
            **self.figures,
            "format": FORMAT_VERSION,
            "examples": len(texts),
            "intents": len(self.classes),
            "features": self.features,
            "char_weight": self.char_weight,
            "C": self.C,
            "learner": self.learner,
            "cv_folds": k if k >= 2 else 0,
            "cv_accuracy": round(best[0], 4) if best[0] >= 0 else None,
            "search": search,
            "temperature": round(self.temperature, 3),
            "threshold": round(self.threshold, 4),
            **calibration,
            "train_seconds": round(time.perf_counter() - started, 2),
        }
        return self

    def _out_of_fold(
        self, X: sparse.csr_matrix, y: np.ndarray, c: float, learner: str, k: int, seed: int
    ) -> np.ndarray:
        classes = sorted(set(y.tolist()))
        oof = np.zeros((X.shape[0], len(classes)), dtype=np.float32)
        for train_idx, test_idx in StratifiedKFold(k, shuffle=True, random_state=seed).split(X, y):
            clf = _fit(_learner(learner, c, seed), X[train_idx], y[train_idx])
            cols = [classes.index(str(cl)) for cl in clf.classes_]
            oof[np.ix_(test_idx, cols)] = clf.decision_function(X[test_idx]).reshape(len(test_idx), -1)
        return oof

    def _calibrate(self, oof: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        """Temperature by out-of-fold log-loss; then the out-of-scope threshold on those confidences."""
        idx = np.array([self.classes.index(label) for label in y])
        best_t, best_nll = self.temperature, float("inf")
        for t in TEMPERATURES:
            p = _softmax(oof, t)[np.arange(len(y)), idx]
            nll = float(-np.mean(np.log(np.clip(p, 1e-9, 1.0))))
            if nll < best_nll:
                best_t, best_nll = t, nll
        self.temperature = best_t
        probs = _softmax(oof, best_t)
        conf = probs.max(axis=1)
        pred = np.array(self.classes)[probs.argmax(axis=1)]
        self.threshold = self._choose_threshold(conf, pred, y)
        return {"cv_log_loss": round(best_nll, 4)}

    def _choose_threshold(self, conf: np.ndarray, pred: np.ndarray, y: np.ndarray) -> float:
        oos = self.oos_label
        is_oos = y == oos if oos else np.zeros(len(y), dtype=bool)
        candidates = np.unique(np.round(conf, 3))
        if not is_oos.any():
            # No out-of-scope examples to aim at: reject only what is less sure than almost every
            # correct answer was out of fold.
            correct = conf[(pred == y)]
            return float(np.quantile(correct, 0.02)) if len(correct) else 0.0
        rows = []
        for t in np.concatenate([[0.0], candidates]):
            flagged = (conf < t) | (pred == oos)
            in_acc = float(np.mean((pred == y)[~is_oos] & ~flagged[~is_oos]))
            rows.append((float(t), in_acc, float(np.mean(flagged[is_oos]))))
        # The threshold catches as much out-of-scope as it can while giving up at most
        # MAX_IN_SCOPE_LOSS of in-scope accuracy: a wrongly refused customer costs more than a
        # politely answered off-topic one, and training data rarely has many out-of-scope examples.
        ceiling = max(r[1] for r in rows)
        allowed = [r for r in rows if r[1] >= ceiling - MAX_IN_SCOPE_LOSS]
        best = max(allowed, key=lambda r: (r[2], r[1]))
        self.figures["threshold_cv"] = {
            "in_scope_accuracy": round(best[1], 4),
            "oos_recall": round(best[2], 4),
        }
        return best[0]

    # --- use --------------------------------------------------------------------------------------

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        assert self._clf is not None, "fit or load the model first"
        blocks = {name: v.transform(texts) for name, v in self._vectorizers.items() if name in self.features}
        raw = self._clf.decision_function(_stack(blocks, self.features, self.char_weight))
        if raw.ndim == 1:  # two classes: liblinear returns one column
            raw = np.stack([-raw, raw], axis=1)
        return _softmax(raw, self.temperature)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        probs = self.scores(texts)
        out = []
        for row in probs:
            i = int(row.argmax())
            label, conf = self.classes[i], float(row[i])
            oos = conf < self.threshold or (self.oos_label is not None and label == self.oos_label)
            out.append(Prediction(self.oos_label if oos and self.oos_label else label, conf, oos))
        return out

    def predict_one(self, text: str) -> Prediction:
        return self.predict([text])[0]

    # --- persistence ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        joblib.dump(self, buf, compress=3)
        return buf.getvalue()

    @staticmethod
    def from_bytes(data: bytes) -> IntentModel:
        # Artifacts are written by this code into the workspace's own rows, never uploaded by users.
        model = joblib.load(io.BytesIO(data))
        if not isinstance(model, IntentModel):
            raise TypeError("not an intent model artifact")
        return model
