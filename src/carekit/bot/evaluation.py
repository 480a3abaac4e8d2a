"""Measuring the NLU honestly: fit on a training file, then read the test file once and score it.

Used by `carekit bot eval` and by the retraining job (which scores a candidate on held-out examples).
"""

from __future__ import annotations

import csv
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from carekit.bot.nlu.intents import IntentModel

LATENCY_SAMPLE = 500


LABEL_COLUMNS = ("label", "intent", "category")


def read_labelled(path: str | Path, text_col: str, label_col: str | None) -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV; without `label_col`, the first of label/intent/category present."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if label_col is None:
            label_col = next((c for c in LABEL_COLUMNS if c in (reader.fieldnames or [])), LABEL_COLUMNS[0])
        missing = {text_col, label_col} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: no column(s) {sorted(missing)}; found {reader.fieldnames}")
        rows = [(r[text_col], r[label_col]) for r in reader if r[text_col] and r[label_col]]
    return [t for t, _ in rows], [label for _, label in rows]


def read_grouped(
    path: str | Path, text_col: str, label_col: str | None, group_col: str
) -> tuple[list[str], list[str], list[str]]:
    """Like `read_labelled`, plus a grouping column (e.g. the language) for per-group accuracy."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if label_col is None:
            label_col = next((c for c in LABEL_COLUMNS if c in (reader.fieldnames or [])), LABEL_COLUMNS[0])
        missing = {text_col, label_col, group_col} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: no column(s) {sorted(missing)}; found {reader.fieldnames}")
        rows = [(r[text_col], r[label_col], r[group_col]) for r in reader if r[text_col] and r[label_col]]
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def sample_per_class(
    texts: Sequence[str], labels: Sequence[str], per_class: int, seed: int
) -> tuple[list[str], list[str]]:
    """`per_class` examples of every label, drawn with a fixed seed (the few-shot setting)."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    rng = random.Random(seed)
    chosen: list[int] = []
    for label in sorted(by_label):
        idx = by_label[label]
        chosen.extend(rng.sample(idx, min(per_class, len(idx))))
    chosen.sort()
    return [texts[i] for i in chosen], [labels[i] for i in chosen]


def score(
    model: IntentModel, texts: Sequence[str], labels: Sequence[str], groups: Sequence[str] | None = None
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-intent F1 and, with an out-of-scope label, in-scope accuracy and recall."""
    preds = model.predict(texts)
    predicted = [p.label for p in preds]
    y = np.asarray(labels)
    p = np.asarray(predicted)
    names = sorted(set(labels))
    per_intent = f1_score(y, p, labels=names, average=None, zero_division=0)
    out: dict[str, Any] = {
        "examples": len(labels),
        "accuracy": round(float(np.mean(y == p)), 4),
        "macro_f1": round(float(f1_score(y, p, labels=names, average="macro", zero_division=0)), 4),
        "per_intent_f1": {n: round(float(f), 4) for n, f in zip(names, per_intent, strict=True)},
    }
    if groups is not None:
        g = np.asarray(groups)
        out["per_group_accuracy"] = {
            name: {
                "examples": int(np.sum(g == name)),
                "accuracy": round(float(np.mean((y == p)[g == name])), 4),
            }
            for name in sorted(set(groups))
        }
    oos = model.oos_label
    if oos:
        flagged = np.asarray([pr.out_of_scope for pr in preds])
        in_scope = y != oos
        out["in_scope_accuracy"] = round(float(np.mean((y == p)[in_scope] & ~flagged[in_scope])), 4)
        out["oos_recall"] = round(float(np.mean(flagged[~in_scope])), 4) if (~in_scope).any() else None
    return out


def latency(model: IntentModel, texts: Sequence[str]) -> dict[str, float]:
    """Single-query latency after a warm-up, in milliseconds."""
    sample = list(texts[:LATENCY_SAMPLE])
    for t in sample[:20]:
        model.predict_one(t)
    timings = []
    for t in sample:
        started = time.perf_counter()
        model.predict_one(t)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "latency_p50_ms": round(float(np.percentile(timings, 50)), 3),
        "latency_p95_ms": round(float(np.percentile(timings, 95)), 3),
    }


def evaluate_files(
    *,
    train: str | Path,
    test: str | Path,
    text_col: str = "text",
    label_col: str | None = None,
    oos_label: str | None = None,
    per_class: int | None = None,
    seed: int = 0,
    group_col: str | None = None,
) -> dict[str, Any]:
    texts, labels = read_labelled(train, text_col, label_col)
    if per_class:
        texts, labels = sample_per_class(texts, labels, per_class, seed)
    started = time.perf_counter()
    model = IntentModel(oos_label=oos_label).fit(texts, labels, seed=seed)
    train_seconds = time.perf_counter() - started
    # The test file is opened only now, after every choice has been made on the training file.
    groups: list[str] | None = None
    if group_col:
        test_texts, test_labels, groups = read_grouped(test, text_col, label_col, group_col)
    else:
        test_texts, test_labels = read_labelled(test, text_col, label_col)
    result = {
        "train_file": str(train),
        "test_file": str(test),
        "train_examples": len(texts),
        "per_class": per_class,
        "seed": seed,
        "oos_label": oos_label,
        **score(model, test_texts, test_labels, groups),
        **latency(model, test_texts),
        "model_bytes": len(model.to_bytes()),
        "train_seconds": round(train_seconds, 2),
        "chosen": {
            k: model.figures[k]
            for k in ("features", "char_weight", "C", "learner", "cv_accuracy", "threshold")
        },
    }
    return result


def evaluate_sentiment(train: str | Path, test: str | Path) -> dict[str, Any]:
    from carekit.bot.nlu.sentiment import LABELS, SentimentModel

    texts, labels = read_labelled(train, "text", "label")
    model = SentimentModel().fit(texts, labels)
    test_texts, test_labels = read_labelled(test, "text", "label")
    predicted = [r.label for r in model.predict(test_texts)]
    per = f1_score(test_labels, predicted, labels=list(LABELS), average=None, zero_division=0)
    return {
        "train_examples": len(texts),
        "examples": len(test_labels),
        "accuracy": round(float(np.mean(np.asarray(test_labels) == np.asarray(predicted))), 4),
        "macro_f1": round(float(f1_score(test_labels, predicted, labels=list(LABELS), average="macro")), 4),
        "per_label_f1": {n: round(float(f), 4) for n, f in zip(LABELS, per, strict=True)},
    }


def evaluate_kb(questions: str | Path) -> dict[str, Any]:
    """MRR@5 and hit@1 of knowledge-base search over the default articles, per question language."""
    import json

    from carekit.knowledge.public import Doc, SearchIndex

    articles_path = Path(__file__).resolve().parents[1] / "knowledge" / "data" / "default_articles.json"
    articles = json.loads(articles_path.read_text(encoding="utf-8"))
    index = SearchIndex(
        [
            Doc(f"{a['slug']}:{lang}", lang, a[lang]["title"], a[lang]["body"])
            for a in articles
            for lang in ("ru", "en")
            if lang in a
        ]
    )
    with open(questions, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    reciprocal, top1, timings = [], [], []
    for r in rows:
        started = time.perf_counter()
        hits = index.search(r["question"], r["lang"], limit=5)
        timings.append((time.perf_counter() - started) * 1000)
        keys = [h.key.split(":")[0] for h in hits]
        rank = keys.index(r["article"]) + 1 if r["article"] in keys else 0
        reciprocal.append(1.0 / rank if rank else 0.0)
        top1.append(rank == 1)
    return {
        "articles": len(index.docs),
        "questions": len(rows),
        "mrr_at_5": round(float(np.mean(reciprocal)), 4),
        "hit_at_1": round(float(np.mean(top1)), 4),
        "latency_p95_ms": round(float(np.percentile(timings, 95)), 3),
    }
