"""Duplicate finder quality on the seeded ~1,000 profiles: precision@20 and recall of true pairs."""

from __future__ import annotations

import pytest
from django.db import transaction

from carekit.customers import services
from carekit.customers.duplicates import Person, duplicates_scan, find_duplicates, score_pair
from carekit.customers.models import Customer, DuplicateCandidate
from carekit.customers.normalize import name_key
from carekit.customers.tests import seed_people
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _load(ws, seed: seed_people.Seed) -> dict[int, str]:
    by_pk = {}
    with transaction.atomic():
        for p in seed.people:
            c = services.customer_create(
                actor=SYSTEM,
                workspace=ws,
                data=services.ProfileInput(
                    first_name=p.first_name,
                    last_name=p.last_name,
                    emails=p.emails,
                    phones=p.phones,
                    address=p.address,
                    birth_date=p.birth_date,
                ),
            )
            by_pk[c.pk] = p.key
    return by_pk


def test_name_keys_fold_transliteration_variants():
    assert name_key("Юрий") == name_key("Yuri") == name_key("Yury") == name_key("Iurii")
    assert name_key("Соловьёв") == name_key("Soloviev")
    assert name_key("Щукин") == name_key("Shchukin") == name_key("Schukin")
    assert name_key("Наталья") == name_key("Natalya") == name_key("Natalia")
    assert name_key("Ирина") != name_key("Марина")


def test_precision_at_20_and_recall_on_the_seeded_set(workspace):
    seed = seed_people.build()
    assert 990 <= len(seed.people) <= 1010
    by_pk = _load(workspace, seed)
    found = find_duplicates(workspace.pk)
    pairs = [frozenset({by_pk[s.first_pk], by_pk[s.second_pk]}) for s in found]
    top = pairs[:20]
    precision_at_20 = sum(p in seed.true_pairs for p in top) / len(top)
    recall = len(seed.true_pairs & set(pairs)) / len(seed.true_pairs)
    negatives_flagged = len(seed.negative_pairs & set(pairs))
    assert precision_at_20 >= 0.9, precision_at_20
    assert recall >= 0.8, recall
    assert negatives_flagged <= len(seed.negative_pairs) * 0.1, negatives_flagged

    with transaction.atomic():
        added = duplicates_scan(actor=SYSTEM, workspace_id=workspace.pk)
    assert added == len(found) == DuplicateCandidate.objects.filter(workspace=workspace).count()
    with transaction.atomic():
        assert duplicates_scan(actor=SYSTEM, workspace_id=workspace.pk) == 0
    assert Customer.objects.filter(workspace=workspace).count() == len(seed.people)


def test_family_phone_scores_below_the_threshold():
    a = Person(1, name_key("Ольга"), name_key("Петрова"), frozenset(), frozenset({"+7912"}), "lenina 1", "")
    b = Person(2, name_key("Ирина"), name_key("Петрова"), frozenset(), frozenset({"+7912"}), "lenina 1", "")
    same = Person(3, name_key("Olga"), name_key("Petrova"), frozenset(), frozenset({"+7912"}), "", "")
    assert score_pair(a, b).score < 0.5
    assert score_pair(a, same).score >= 0.5
