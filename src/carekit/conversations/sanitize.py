"""Allow-list HTML sanitizer for message bodies (stdlib only).

Only the tags below survive, with no attributes except a safe `href` on links; the content of
script/style/iframe-like elements is dropped whole, everything else is escaped text. The output is what
we store and render; the raw input is never stored.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    {"p", "br", "b", "strong", "i", "em", "u", "s", "ul", "ol", "li", "a", "blockquote", "code", "pre"}
)
VOID_TAGS = frozenset({"br"})
# Elements whose whole content is dropped, not just the tags.
DROP_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"}
)
SAFE_SCHEMES = ("http://", "https://", "mailto:")


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT:
            self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        if tag == "a":
            href = next((v for k, v in attrs if k == "href" and v), "")
            safe = href.strip().lower().startswith(SAFE_SCHEMES)
            attr = (
                f' href="{escape(href.strip(), quote=True)}" rel="nofollow noopener" target="_blank"'
                if safe
                else ""
            )
            self.out.append(f"<a{attr}>")
        else:
            self.out.append(f"<{tag}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS and not self.dropping:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in self.open:
            return
        while self.open:  # close anything left open inside it, so the output stays well formed
            top = self.open.pop()
            self.out.append(f"</{top}>")
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(escape(data, quote=False))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{t}>" for t in reversed(self.open))


def sanitize_html(raw: str) -> str:
    parser = _Sanitizer()
    parser.feed(raw)
    return parser.result()


def text_to_html(text: str) -> str:
    """Plain text as safe HTML: escaped, paragraphs and line breaks kept."""
    paras = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p, quote=False).replace(chr(10), '<br>')}</p>" for p in paras)


def html_to_text(html: str) -> str:
    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.dropping = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in DROP_CONTENT:
                self.dropping += 1
            elif tag in {"br", "p", "li"}:
                self.parts.append("\n")

        def handle_endtag(self, tag: str) -> None:
            if tag in DROP_CONTENT:
                self.dropping = max(0, self.dropping - 1)

        def handle_data(self, data: str) -> None:
            if not self.dropping:
                self.parts.append(data)

    p = _Text()
    p.feed(html)
    p.close()
    return "".join(p.parts).strip()
