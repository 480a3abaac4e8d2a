"""A seeded set of ~1,000 profiles with known duplicate pairs and hard negatives.

True pairs are the same person entered twice in ways shops really see: Cyrillic in one channel and
Latin in another (with the usual transliteration variants), an email typed in another case, a typo in
the surname, the same address or birth date. Hard negatives: families sharing a phone and an address,
spouses sharing an email, and namesakes. Some true pairs are deliberately out of reach (a nickname and
no shared contact) so recall is measured, not assumed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

# (Cyrillic, Latin spellings seen in the wild, gender)
FIRST = [
    ("Юрий", ["Yuri", "Yury", "Iurii"], "m"), ("Алексей", ["Alexey", "Aleksei", "Alexei"], "m"),
    ("Дмитрий", ["Dmitry", "Dmitrii"], "m"), ("Сергей", ["Sergey", "Sergei"], "m"),
    ("Андрей", ["Andrey", "Andrei"], "m"), ("Максим", ["Maxim", "Maksim"], "m"),
    ("Евгений", ["Evgeny", "Yevgeniy"], "m"), ("Михаил", ["Mikhail", "Michail"], "m"),
    ("Николай", ["Nikolay", "Nikolai"], "m"), ("Илья", ["Ilya", "Ilia"], "m"),
    ("Артём", ["Artem", "Artyom"], "m"), ("Григорий", ["Grigory", "Grigorii"], "m"),
    ("Наталья", ["Natalya", "Natalia"], "f"), ("Юлия", ["Yulia", "Julia", "Iuliia"], "f"),
    ("Ксения", ["Ksenia", "Kseniya"], "f"), ("Татьяна", ["Tatyana", "Tatiana"], "f"),
    ("Мария", ["Maria", "Mariya"], "f"), ("Екатерина", ["Ekaterina", "Yekaterina"], "f"),
    ("Ольга", ["Olga"], "f"), ("Анастасия", ["Anastasia", "Anastasiya"], "f"),
    ("Дарья", ["Darya", "Daria"], "f"), ("Софья", ["Sofya", "Sofia"], "f"),
    ("Елена", ["Elena", "Yelena"], "f"), ("Ирина", ["Irina"], "f"),
]  # fmt: skip
# (Cyrillic masculine, Latin masculine spellings); the feminine adds an "a" in either script.
LAST = [
    ("Иванов", ["Ivanov"]), ("Кузнецов", ["Kuznetsov", "Kuznecov"]), ("Соловьёв", ["Solovyov", "Soloviev"]),
    ("Щукин", ["Shchukin", "Schukin"]), ("Журавлёв", ["Zhuravlev", "Zhuravlyov"]), ("Петров", ["Petrov"]),
    ("Смирнов", ["Smirnov"]), ("Васильев", ["Vasilyev", "Vasiliev"]), ("Фёдоров", ["Fedorov", "Fyodorov"]),
    ("Морозов", ["Morozov"]), ("Волков", ["Volkov"]), ("Алексеев", ["Alekseev", "Alexeev"]),
    ("Лебедев", ["Lebedev"]), ("Семёнов", ["Semenov", "Semyonov"]), ("Егоров", ["Egorov", "Yegorov"]),
    ("Павлов", ["Pavlov"]), ("Козлов", ["Kozlov"]), ("Степанов", ["Stepanov"]), ("Николаев", ["Nikolaev"]),
    ("Орлов", ["Orlov"]), ("Андреев", ["Andreev"]), ("Макаров", ["Makarov"]), ("Никитин", ["Nikitin"]),
    ("Захаров", ["Zakharov", "Zaharov"]), ("Зайцев", ["Zaitsev", "Zaytsev"]), ("Борисов", ["Borisov"]),
    ("Яковлев", ["Yakovlev", "Iakovlev"]), ("Григорьев", ["Grigoryev", "Grigoriev"]),
    ("Романов", ["Romanov"]),
    ("Воробьёв", ["Vorobyov", "Vorobiev"]), ("Ковалёв", ["Kovalev", "Kovalyov"]), ("Тихонов", ["Tikhonov"]),
]  # fmt: skip
NICKNAMES = {"Алексей": "Лёша", "Дмитрий": "Дима", "Михаил": "Миша", "Екатерина": "Катя", "Мария": "Маша"}
STREETS = ["Lenina", "Mira", "Sadovaya", "Pushkina", "Gagarina", "Sovetskaya", "Tverskaya", "Lesnaya"]


@dataclass
class SeedPerson:
    key: str
    first_name: str
    last_name: str
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    address: str = ""
    birth_date: date | None = None


@dataclass
class Seed:
    people: list[SeedPerson]
    true_pairs: set[frozenset[str]]
    negative_pairs: set[frozenset[str]]


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.n = 0

    def key(self) -> str:
        self.n += 1
        return f"p{self.n}"

    def name(self) -> tuple[tuple[str, list[str], str], tuple[str, list[str]]]:
        return self.rng.choice(FIRST), self.rng.choice(LAST)

    def cyr(self, first, last) -> tuple[str, str]:
        return first[0], last[0] + ("\u0430" if first[2] == "f" else "")  # Cyrillic a

    def lat(self, first, last) -> tuple[str, str]:
        return self.rng.choice(first[1]), self.rng.choice(last[1]) + ("a" if first[2] == "f" else "")

    def email(self) -> str:
        return f"user{self.rng.randrange(10**9)}@example.org"

    def phone(self) -> str:
        return f"+7912{self.rng.randrange(10**7):07d}"

    def address(self) -> str:
        return (
            f"{self.rng.choice(STREETS)} st. {self.rng.randrange(1, 300)}, apt {self.rng.randrange(1, 500)}"
        )

    def birth(self) -> date:
        return date(self.rng.randrange(1950, 2005), self.rng.randrange(1, 13), self.rng.randrange(1, 29))

    def person(self, first_name: str, last_name: str, **kw) -> SeedPerson:
        return SeedPerson(self.key(), first_name, last_name, **kw)

    def single(self) -> SeedPerson:
        f, la = self.name()
        fn, ln = self.cyr(f, la) if self.rng.random() < 0.5 else self.lat(f, la)
        return self.person(
            fn,
            ln,
            emails=[self.email()],
            phones=[self.phone()],
            address=self.address() if self.rng.random() < 0.6 else "",
            birth_date=self.birth() if self.rng.random() < 0.4 else None,
        )


def _typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # swap two neighbouring letters


def build(seed: int = 7) -> Seed:
    g = _Gen(random.Random(seed))
    rng = g.rng
    people: list[SeedPerson] = []
    true_pairs: set[frozenset[str]] = set()
    negatives: set[frozenset[str]] = set()

    def pair(a: SeedPerson, b: SeedPerson, truth: bool) -> None:
        people.extend([a, b])
        (true_pairs if truth else negatives).add(frozenset({a.key, b.key}))

    for _ in range(35):  # Cyrillic in one channel, Latin in another; the same phone
        f, la = g.name()
        phone = g.phone()
        pair(
            g.person(*g.cyr(f, la), phones=[phone], emails=[g.email()]),
            g.person(*g.lat(f, la), phones=[phone]),
            True,
        )
    for _ in range(25):  # the same email in another case, a typo in the surname
        f, la = g.name()
        fn, ln = g.lat(f, la)
        email = g.email()
        pair(
            g.person(fn, ln, emails=[email]),
            g.person(fn, _typo(ln, rng), emails=[email.upper()], phones=[g.phone()]),
            True,
        )
    for _ in range(20):  # the same address, no shared contact
        f, la = g.name()
        addr = g.address()
        pair(
            g.person(*g.cyr(f, la), address=addr, emails=[g.email()]),
            g.person(*g.lat(f, la), address=addr.upper()),
            True,
        )
    for _ in range(15):  # the same name and birth date, different contacts
        f, la = g.name()
        bd = g.birth()
        pair(
            g.person(*g.lat(f, la), birth_date=bd, phones=[g.phone()]),
            g.person(*g.cyr(f, la), birth_date=bd, emails=[g.email()]),
            True,
        )
    for _ in range(5):  # out of reach: a nickname and nothing shared
        f, la = g.name()
        nick = NICKNAMES.get(f[0], f[0][:2])
        ln = g.cyr(f, la)[1]
        pair(g.person(f[0], ln, emails=[g.email()]), g.person(nick, ln, phones=[g.phone()]), True)
    for _ in range(50):  # a family: same surname, other first names, shared phone and address
        f1, la = g.name()
        f2 = rng.choice([x for x in FIRST if x[0] != f1[0]])
        phone, addr = g.phone(), g.address()
        a = g.person(*g.cyr(f1, la), phones=[phone], address=addr, emails=[g.email()])
        b = g.person(*g.cyr(f2, la), phones=[phone], address=addr, emails=[g.email()])
        pair(a, b, False)
    for _ in range(10):  # spouses sharing one email
        f1, la = g.name()
        f2 = rng.choice([x for x in FIRST if x[0] != f1[0]])
        email = g.email()
        pair(
            g.person(*g.lat(f1, la), emails=[email]),
            g.person(*g.lat(f2, la), emails=[email], phones=[g.phone()]),
            False,
        )
    for _ in range(30):  # namesakes with different birth dates
        f, la = g.name()
        a = g.person(*g.cyr(f, la), birth_date=date(1970, 1, 5), emails=[g.email()])
        b = g.person(*g.cyr(f, la), birth_date=date(1991, 7, 9), phones=[g.phone()])
        pair(a, b, False)
    while len(people) < 1000:
        people.append(g.single())
    rng.shuffle(people)
    return Seed(people, true_pairs, negatives)
