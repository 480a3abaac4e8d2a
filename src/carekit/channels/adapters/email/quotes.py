"""The customer's reply without the quoted history and the signature below it (Russian and English
mail clients). If stripping would leave nothing, the whole text is kept: better a quote than no message."""

from __future__ import annotations

import re

# A line that starts the quoted history; everything from it on is dropped.
_HISTORY = [
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.I),
    re.compile(
        r"^\s*-{2,}\s*(Original Message|Forwarded message|Исходное сообщение|Пересылаемое сообщение)\s*-{2,}",
        re.I,
    ),
    re.compile(r"^.{0,300}\b(пишет|писал|написал|писала|написала|писал\(а\)|написал\(а\))\s*:\s*$", re.I),
    re.compile(r"^\s*(From|От|Від)\s*:\s*.+$", re.I),  # Outlook's header block, checked with the next lines
    re.compile(r"^_{10,}\s*$"),  # Outlook's rule above its header block
]
_OUTLOOK_NEXT = re.compile(r"^\s*(Sent|Date|To|Subject|Отправлено|Дата|Кому|Тема)\s*:", re.I)
_WRAPPED_END = r"^\s*.{0,120}\b(wrote|пишет|писал\(а\)|написал\(а\)|писал|написал):\s*$"
_SIGNATURE = [
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*(Sent from my|Отправлено с|Отправлено из|Get Outlook for)\b", re.I),
]


def _history_starts(lines: list[str], i: int) -> bool:
    line = lines[i]
    for n, pattern in enumerate(_HISTORY):
        if not pattern.search(line):
            continue
        if n == 3:  # "From: ..." alone is ordinary text; Outlook follows it with Sent/To/Subject lines
            return any(_OUTLOOK_NEXT.search(x) for x in lines[i + 1 : i + 4])
        return True
    # "On Mon, 1 Jan 2026 at 10:00, Name <a@b>\nwrote:" wrapped over two lines
    return bool(
        i + 1 < len(lines) and re.match(r"^\s*(On|В)\b", line) and re.match(_WRAPPED_END, lines[i + 1], re.I)
    )


def strip_quoted(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if _history_starts(lines, i) or any(p.search(line) for p in _SIGNATURE):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    result = "\n".join(kept).strip()
    return result or text.strip()
