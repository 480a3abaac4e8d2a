"""Text analysis for search: Russian lemmas (pymorphy3), English Snowball stems, stop words, synonyms.

The knowledge base keeps its own analyzer rather than borrowing the bot's: the bot depends on the
knowledge base (to answer from it), so the dependency must not point back.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

MAX_CHARS = 20_000
_TOKEN_RE = re.compile(r"[a-zа-яё]+|\d+", re.IGNORECASE)
_CYRILLIC_RE = re.compile(r"[а-яё]", re.IGNORECASE)

_STOP_TEXT = """
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было
    вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас
    нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их
    чем была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой
    совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при
    наконец два об другой хоть после над больше тот через эти нас про всего них какая много разве
    три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда
    конечно всю между это мочь свой ваш
    a an the and or but if of at by for with about to from in on is are was were be been am do does
    did i me my we our you your he she it its they them their this that these those can could will
    would should what which who how please
    """
STOP_WORDS = frozenset(_STOP_TEXT.split())

# Groups of interchangeable words; every member is indexed and searched as the group's first word.
SYNONYMS = [
    "заказ посылка отправление покупка",
    "вернуть возврат сдать",
    "деньги средства оплата",
    "отследить трек отслеживание",
    "доставка привезти доставить",
    "курьер доставщик",
    "промокод купон код",
    "бонус балл",
    "примерка примерочная",
    "телефон номер",
    "размер размерный",
    "отменить отмена отказаться",
    "обменять обмен поменять",
    "order parcel package purchase shipment",
    "return send",
    "refund money",
    "track tracking",
    "delivery deliver shipping ship",
    "promo coupon discount code",
    "point bonus",
    "fitting appointment",
    "cancel cancellation",
    "exchange swap",
    "wash washing care clean",
    "gift voucher certificate",
    "hour opening open",
]


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
def _base(token: str) -> str:
    if _CYRILLIC_RE.match(token):
        return str(_morph().parse(token)[0].normal_form).replace("ё", "е")
    return str(_stemmer().stemWord(token))


@lru_cache(maxsize=1)
def _synonym_map() -> dict[str, str]:
    out: dict[str, str] = {}
    for group in SYNONYMS:
        forms = [_base(w) for w in group.split()]
        for form in forms:
            out.setdefault(form, forms[0])
    return out


def terms(text: str) -> list[str]:
    """Searchable terms: normal forms with stop words dropped and synonyms folded together."""
    syn = _synonym_map()
    out = []
    for tok in _TOKEN_RE.findall(text[:MAX_CHARS].lower().replace("ё", "е")):
        if tok in STOP_WORDS or (len(tok) < 2 and not tok.isdigit()):
            continue
        form = _base(tok)
        if form in STOP_WORDS:
            continue
        out.append(syn.get(form, form))
    return out


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]
