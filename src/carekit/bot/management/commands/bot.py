"""`carekit bot eval | eval-sentiment | eval-kb | train`: measure the NLU and retrain a workspace's model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from carekit.bot import evaluation

DATA = Path(__file__).resolve().parents[2] / "data"


class Command(BaseCommand):
    help = "Evaluate intent, sentiment and knowledge-base figures; retrain a workspace's bot model."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ev = sub.add_parser("eval", help="fit on --train (choices by cross-validation), score --test once")
        ev.add_argument("--train", required=True)
        ev.add_argument("--test", required=True)
        ev.add_argument("--text-col", default="text")
        ev.add_argument("--label-col", default=None, help="default: the first of label, intent, category")
        ev.add_argument("--oos-label", default=None, help="the label of out-of-scope examples")
        ev.add_argument("--per-class", type=int, default=None, help="train on N examples per label")
        ev.add_argument("--seed", type=int, default=0)
        ev.add_argument("--group-col", default=None, help="also report accuracy per value of this column")
        ev.add_argument("--json", action="store_true")
        es = sub.add_parser("eval-sentiment", help="the project's sentiment set: train file -> eval file")
        es.add_argument("--json", action="store_true")
        ek = sub.add_parser("eval-kb", help="knowledge-base search MRR@5 on the project's questions")
        ek.add_argument("--json", action="store_true")
        tr = sub.add_parser("train", help="retrain a workspace's intent model now")
        tr.add_argument("--workspace", required=True, help="workspace slug")
        tr.add_argument("--json", action="store_true")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        if action == "eval":
            for key in ("train", "test"):
                if not Path(opts[key]).is_file():
                    raise CommandError(f"--{key}: no such file {opts[key]!r}")
            try:
                result = evaluation.evaluate_files(
                    train=opts["train"],
                    test=opts["test"],
                    text_col=opts["text_col"],
                    label_col=opts["label_col"],
                    oos_label=opts["oos_label"],
                    per_class=opts["per_class"],
                    seed=opts["seed"],
                    group_col=opts["group_col"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        elif action == "eval-sentiment":
            result = evaluation.evaluate_sentiment(
                DATA / "train" / "sentiment.csv", DATA / "eval" / "sentiment.csv"
            )
        elif action == "eval-kb":
            result = evaluation.evaluate_kb(DATA / "eval" / "kb_questions.csv")
        else:
            result = self._train(opts["workspace"])
        self._print(result, as_json=opts["json"])

    def _train(self, slug: str) -> dict[str, Any]:
        from carekit.bot import services
        from carekit.core.events import Actor
        from carekit.core.models import Workspace

        ws = Workspace.objects.filter(slug=slug).first()
        if ws is None:
            raise CommandError(f"no workspace with slug {slug!r}")
        with transaction.atomic(durable=True):
            model = services.model_train(actor=Actor.system("cli"), workspace=ws)
        return {"version": model.version, "status": model.status, "figures": model.figures}

    def _print(self, result: dict[str, Any], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        for key, value in result.items():
            if isinstance(value, dict) and key.startswith("per_"):
                self.stdout.write(f"{key}:")
                for name, v in value.items():
                    self.stdout.write(f"  {name:<32} {v}")
            else:
                self.stdout.write(f"{key}: {value}")
