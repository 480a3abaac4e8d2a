"""The ru and en catalogues are complete: no empty or fuzzy entries, compiled, covering the UI strings."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
SOURCES = [Path(settings.BASE_DIR) / "src" / "carekit", Path(settings.BASE_DIR) / "config"]
LANGS = ["en", "ru"]
# The project catalogues, plus those a context keeps in its own locale/ directory (makemessages
# writes a context's strings there when the directory exists).
CATALOGUES = sorted(
    [LOCALE / lang / "LC_MESSAGES" / "django.po" for lang in LANGS]
    + list((Path(settings.BASE_DIR) / "src" / "carekit").glob("*/locale/*/LC_MESSAGES/django.po"))
)


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(chunks: list[str]) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), "".join(chunks))


def parse_po(path: Path) -> list[dict]:
    """A minimal .po reader: entries with msgid, msgid_plural, msgstr[n] and flags."""
    entries: list[dict] = []
    current: dict | None = None
    key = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current is not None:
                entries.append(current)
            current, key = None, ""
            continue
        if current is None:
            current = {"flags": set(), "parts": {}}
        if line.startswith("#,"):
            current["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current["parts"][key].append(line[1:-1])
        else:
            key, _, rest = line.partition(" ")
            current["parts"][key] = [rest.strip()[1:-1]]
    out = []
    for e in entries:
        if "msgid" not in e["parts"]:  # obsolete (#~) entries are comments to gettext
            continue
        texts = {k: _unquote(v) for k, v in e["parts"].items()}
        out.append({"flags": e["flags"], **texts})
    return out


@pytest.mark.sqlite
@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_catalogue_has_no_empty_or_fuzzy_entries_and_is_compiled(po):
    entries = parse_po(po)
    assert len(entries) > 1
    fuzzy = [e.get("msgid") for e in entries if "fuzzy" in e["flags"]]
    assert fuzzy == []
    empty = [
        e["msgid"]
        for e in entries
        if e["msgid"] and any(not v for k, v in e.items() if k.startswith("msgstr"))
    ]
    assert empty == []
    with po.with_suffix(".mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [
        e["msgid"]
        for e in entries
        if e["msgid"] and "msgid_plural" not in e and compiled.gettext(e["msgid"]) != e["msgstr"]
    ]
    assert stale == [], "run compilemessages"


@pytest.mark.sqlite
def test_both_languages_translate_the_same_strings():
    ids = {
        lang: {e["msgid"] for e in parse_po(LOCALE / lang / "LC_MESSAGES" / "django.po")} for lang in LANGS
    }
    assert ids["en"] == ids["ru"]
    ru = {e["msgid"]: e.get("msgstr", "") for e in parse_po(LOCALE / "ru" / "LC_MESSAGES" / "django.po")}
    untranslated = [k for k, v in ru.items() if k and v == k and re.search(r"[A-Za-z]{3}", k)]
    assert untranslated == []


_TEMPLATE_RE = re.compile(r"""{%\s*translate\s+(["'])(.+?)\1""")
_PY_RE = re.compile(r"""(?<![\w.])_\(\s*"((?:[^"\\]|\\.)+)"\s*\)""")


@pytest.mark.sqlite
def test_every_marked_string_is_in_the_catalogue():
    known = {e["msgid"] for po in CATALOGUES if po.parts[-3] == "ru" for e in parse_po(po)}
    missing = []
    for root in SOURCES:
        for path in root.rglob("*"):
            if "tests" in path.parts or path.suffix not in {".html", ".py"}:
                continue
            text = path.read_text(encoding="utf-8")
            found = [m.group(2) for m in _TEMPLATE_RE.finditer(text)] if path.suffix == ".html" else []
            if path.suffix == ".py":  # the source spells escapes ("\\n"); the catalogue holds the characters
                found += [ast.literal_eval(f'"{m.group(1)}"') for m in _PY_RE.finditer(text)]
            missing += [f"{path.name}: {s}" for s in found if s not in known]
    assert missing == [], "run makemessages and translate"
