"""`carekit bot eval`: figures on small files, and the test file read only after training."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from carekit.bot import evaluation

pytestmark = [pytest.mark.sqlite]

TRAIN = [
    *[(f"где мой заказ {n}", "order_status") for n in range(10, 22)],
    *[(f"where is my order {n}", "order_status") for n in range(30, 42)],
    *[(f"хочу вернуть товар {n}", "return_item") for n in range(10, 22)],
    *[(f"i want to return item {n}", "return_item") for n in range(30, 42)],
    *[(f"какая погода будет {n}", "oos") for n in range(10, 22)],
    *[(f"tell me a joke number {n}", "oos") for n in range(30, 42)],
]
TEST = [
    ("где мой заказ 99", "order_status"),
    ("where is my order 77", "order_status"),
    ("хочу вернуть товар 5", "return_item"),
    ("i want to return item 8", "return_item"),
    ("какая погода будет 3", "oos"),
    ("tell me a joke number 1", "oos"),
]


def _write(path, rows, text_col="text", label_col="label"):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([text_col, label_col])
        w.writerows(rows)
    return path


def _run(*args: str) -> dict:
    out = io.StringIO()
    call_command("bot", "eval", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_eval_prints_the_figures_the_issue_asks_for(tmp_path):
    train = _write(tmp_path / "train.csv", TRAIN, label_col="intent")
    test = _write(tmp_path / "test.csv", TEST, label_col="intent")
    result = _run("--train", str(train), "--test", str(test), "--label-col", "intent", "--oos-label", "oos")
    assert result["train_examples"] == 72
    assert result["examples"] == 6
    assert (result["accuracy"], result["macro_f1"]) == (1.0, 1.0)
    assert result["per_intent_f1"] == {"oos": 1.0, "order_status": 1.0, "return_item": 1.0}
    assert (result["in_scope_accuracy"], result["oos_recall"]) == (1.0, 1.0)
    for key in ("latency_p50_ms", "latency_p95_ms", "model_bytes", "train_seconds"):
        assert result[key] > 0
    assert result["chosen"]["features"] in {"word+char", "word", "char"}


def test_per_class_sampling_and_custom_columns(tmp_path):
    train = _write(tmp_path / "train.csv", TRAIN, text_col="utterance", label_col="category")
    test = _write(tmp_path / "test.csv", TEST, text_col="utterance", label_col="category")
    result = _run(
        "--train",
        str(train),
        "--test",
        str(test),
        "--text-col",
        "utterance",
        "--per-class",
        "4",
        "--seed",
        "3",
    )
    assert (result["train_examples"], result["per_class"], result["seed"]) == (12, 4, 3)
    assert "in_scope_accuracy" not in result


def test_the_test_file_is_read_once_after_training(tmp_path, monkeypatch):
    train = _write(tmp_path / "train.csv", TRAIN)
    test = _write(tmp_path / "test.csv", TEST)
    calls: list[str] = []
    real_read, real_fit = evaluation.read_labelled, evaluation.IntentModel.fit

    def read(path, *args):
        calls.append(f"read {path}")
        return real_read(path, *args)

    def fit(self, *args, **kwargs):
        calls.append("fit")
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(evaluation, "read_labelled", read)
    monkeypatch.setattr(evaluation.IntentModel, "fit", fit)
    _run("--train", str(train), "--test", str(test))
    assert calls == [f"read {train}", "fit", f"read {test}"]


def test_accuracy_per_group(tmp_path):
    train = _write(tmp_path / "train.csv", TRAIN)
    test = tmp_path / "test.csv"
    with test.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "lang"])
        w.writerows([(t, label, "ru" if t[0] > "z" else "en") for t, label in TEST])
    result = _run("--train", str(train), "--test", str(test), "--group-col", "lang")
    assert result["per_group_accuracy"] == {
        "en": {"examples": 3, "accuracy": 1.0},
        "ru": {"examples": 3, "accuracy": 1.0},
    }


def test_bad_arguments_are_command_errors(tmp_path):
    train = _write(tmp_path / "train.csv", TRAIN)
    with pytest.raises(CommandError):
        _run("--train", str(train), "--test", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError):
        _run("--train", str(train), "--test", str(train), "--text-col", "nope")


def test_sentiment_and_kb_figures():
    out = io.StringIO()
    call_command("bot", "eval-kb", "--json", stdout=out)
    kb = json.loads(out.getvalue())
    assert (kb["articles"], kb["questions"]) == (28, 41)
    assert 0.0 < kb["mrr_at_5"] <= 1.0
    out = io.StringIO()
    call_command("bot", "eval-sentiment", "--json", stdout=out)
    assert set(json.loads(out.getvalue())["per_label_f1"]) == {"negative", "neutral", "positive"}
