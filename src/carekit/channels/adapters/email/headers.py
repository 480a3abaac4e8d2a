"""Header and body bytes as text, whatever charset the sender claimed (or forgot to claim)."""

from __future__ import annotations

from email.errors import HeaderParseError
from email.header import Header, decode_header, make_header

FALLBACK_CHARSETS = ("utf-8", "cp1251", "koi8_r")


def decode_words(value: str | Header) -> str:
    """An RFC 2047 header value as text; unknown or wrong charsets and raw 8-bit bytes decoded leniently."""
    if isinstance(value, str):
        if any("\udc80" <= ch <= "\udcff" for ch in value):  # raw 8-bit bytes kept as surrogates
            return decode_bytes(value.encode("ascii", "surrogateescape"), None)
        if "=?" not in value:
            return value
    try:
        chunks = decode_header(value)
    except (HeaderParseError, ValueError):
        return str(value)
    if isinstance(value, str):
        try:
            return str(make_header(chunks))
        except (LookupError, UnicodeDecodeError, ValueError):
            pass
    # A Header object here holds raw 8-bit bytes ("unknown-8bit"): guess their charset
    out = [
        c if isinstance(c, str) else decode_bytes(c, cs if cs != "unknown-8bit" else None) for c, cs in chunks
    ]
    return "".join(out)


def decode_bytes(data: bytes, charset: str | None) -> str:
    for cs in ((charset,) if charset else ()) + FALLBACK_CHARSETS:
        try:
            return data.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")
