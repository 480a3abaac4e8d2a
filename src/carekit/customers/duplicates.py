"""The duplicate finder: scores candidate pairs for agents to review. It never merges by itself.

Pairs come from blocks (a shared email, phone or address, or the same transliterated surname and
first initial), so the work grows with block sizes, not with the square of the workspace. Evidence
adds up; contradicting evidence subtracts: a shared phone with the same surname but another first
name is a family, and the same name with nothing else in common is two different people.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations

from django.db import transaction
from django.db.models import Q

from carekit.core.events import Actor
from carekit.customers.enums import CustomerStatus, DuplicateStatus
from carekit.customers.models import Contact, Customer, DuplicateCandidate
from carekit.customers.normalize import name_key

MIN_SCORE = 0.5
MAX_BLOCK = 50  # a block bigger than this (a shop's shared phone, a very common name) says nothing
NAME_MATCH = 0.8

WEIGHTS = {
    "email": 0.6,
    "phone": 0.35,
    "address": 0.2,
    "birth_date": 0.2,
    "name": 0.35,
}
PENALTIES = {
    "birth_date_differs": -0.4,
    "first_name_differs": -0.5,  # same surname, other first name: a relative, not the same person
    "name_differs": -0.3,
}


@dataclass(frozen=True)
class Person:
    pk: int
    first: str
    last: str
    emails: frozenset[str]
    phones: frozenset[str]
    address: str
    birth_date: str


@dataclass(frozen=True)
class Scored:
    first_pk: int
    second_pk: int
    score: float
    reasons: tuple[str, ...]


_ADDR_RE = re.compile(r"[^\w]+")


def _address_key(text: str) -> str:
    return _ADDR_RE.sub(" ", text.lower()).strip()


def _similar(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    return SequenceMatcher(None, a, b).ratio()


def score_pair(a: Person, b: Person) -> Scored:
    score, reasons = 0.0, []
    for label, shared in (
        ("email", a.emails & b.emails),
        ("phone", a.phones & b.phones),
        ("address", {a.address} & {b.address} - {""}),
    ):
        if shared:
            score += WEIGHTS[label]
            reasons.append(label)
    if a.birth_date and b.birth_date:
        if a.birth_date == b.birth_date:
            score += WEIGHTS["birth_date"]
            reasons.append("birth_date")
        else:
            score += PENALTIES["birth_date_differs"]
            reasons.append("birth_date_differs")
    if (a.first or a.last) and (b.first or b.last):
        first, last = _similar(a.first, b.first), _similar(a.last, b.last)
        if first >= NAME_MATCH and last >= NAME_MATCH:
            score += WEIGHTS["name"]
            reasons.append("name")
        elif last >= NAME_MATCH and a.first and b.first:
            score += PENALTIES["first_name_differs"]
            reasons.append("first_name_differs")
        elif first < NAME_MATCH and last < NAME_MATCH:
            score += PENALTIES["name_differs"]
            reasons.append("name_differs")
    lo, hi = sorted((a.pk, b.pk))
    return Scored(lo, hi, round(max(0.0, min(1.0, score)), 3), tuple(reasons))


def _people(workspace_id: int) -> list[Person]:
    contacts: dict[int, dict[str, set[str]]] = defaultdict(lambda: {"email": set(), "phone": set()})
    for cid, kind, value in Contact.objects.filter(
        workspace_id=workspace_id, customer__status=CustomerStatus.ACTIVE
    ).values_list("customer_id", "kind", "value"):
        contacts[cid][kind].add(value)
    rows = Customer.objects.filter(workspace_id=workspace_id, status=CustomerStatus.ACTIVE).values_list(
        "pk", "first_name", "last_name", "address", "birth_date"
    )
    return [
        Person(
            pk=pk,
            first=name_key(first),
            last=name_key(last),
            emails=frozenset(contacts[pk]["email"]),
            phones=frozenset(contacts[pk]["phone"]),
            address=_address_key(address),
            birth_date=bd.isoformat() if bd else "",
        )
        for pk, first, last, address, bd in rows
    ]


def find_duplicates(workspace_id: int, *, min_score: float = MIN_SCORE) -> list[Scored]:
    """Scored pairs at or above `min_score`, best first (ties by pair, so the order is stable)."""
    people = _people(workspace_id)
    blocks: dict[str, list[Person]] = defaultdict(list)
    for p in people:
        for e in p.emails:
            blocks[f"e:{e}"].append(p)
        for ph in p.phones:
            blocks[f"p:{ph}"].append(p)
        if p.address:
            blocks[f"a:{p.address}"].append(p)
        if p.last:
            blocks[f"n:{p.last}:{p.first[:1]}"].append(p)
    seen: set[tuple[int, int]] = set()
    out = []
    for members in blocks.values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for a, b in combinations(members, 2):
            key = (min(a.pk, b.pk), max(a.pk, b.pk))
            if key in seen:
                continue
            seen.add(key)
            scored = score_pair(a, b)
            if scored.score >= min_score:
                out.append(scored)
    out.sort(key=lambda s: (-s.score, s.first_pk, s.second_pk))
    return out


def candidate_note(a: Customer, b: Customer, *, score: float, reasons: list[str]) -> DuplicateCandidate:
    lo, hi = sorted((a.pk, b.pk))
    with transaction.atomic():
        cand, created = DuplicateCandidate.objects.get_or_create(
            workspace_id=a.workspace_id,
            first_id=lo,
            second_id=hi,
            defaults={"score": score, "reasons": reasons},
        )
    if not created and cand.status == DuplicateStatus.OPEN and cand.score < score:
        DuplicateCandidate.objects.filter(pk=cand.pk).update(score=score, reasons=reasons)
    return cand


def duplicates_scan(*, actor: Actor, workspace_id: int, min_score: float = MIN_SCORE) -> int:
    """Refresh the review queue: new pairs are added, open ones rescored; reviewed ones are left alone."""
    found = find_duplicates(workspace_id, min_score=min_score)
    existing = {
        (c.first_id, c.second_id): c for c in DuplicateCandidate.objects.filter(workspace_id=workspace_id)
    }
    new = []
    for s in found:
        cand = existing.get((s.first_pk, s.second_pk))
        if cand is None:
            new.append(
                DuplicateCandidate(
                    workspace_id=workspace_id,
                    first_id=s.first_pk,
                    second_id=s.second_pk,
                    score=s.score,
                    reasons=list(s.reasons),
                )
            )
        elif cand.status == DuplicateStatus.OPEN and (cand.score, cand.reasons) != (s.score, list(s.reasons)):
            DuplicateCandidate.objects.filter(pk=cand.pk).update(score=s.score, reasons=list(s.reasons))
    DuplicateCandidate.objects.bulk_create(new)
    return len(new)


def duplicate_dismiss(*, actor: Actor, candidate: DuplicateCandidate) -> DuplicateCandidate:
    candidate.status = DuplicateStatus.DISMISSED
    candidate.save(update_fields=["status"])
    return candidate


def open_candidates_for(customer: Customer):
    return DuplicateCandidate.objects.filter(
        Q(first=customer) | Q(second=customer),
        workspace_id=customer.workspace_id,
        status=DuplicateStatus.OPEN,
        first__status=CustomerStatus.ACTIVE,
        second__status=CustomerStatus.ACTIVE,
    )
