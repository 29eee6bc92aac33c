"""Reads the forms out of an admin page, as a browser would see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    """One <form>: its method, action and named inputs with their values."""

    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = Form(values.get("method", "get").lower(), values.get("action", ""))
            self.forms.append(self._open)
        elif tag in ("input", "select", "textarea") and self._open is not None and "name" in values:
            self._open.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def forms_of(html: str) -> list[Form]:
    """Every form of the page, in document order."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def csrf_token_of(html: str) -> str:
    """The CSRF token the page's POST forms carry (they all carry the same one)."""
    tokens = {form.fields.get("csrf_token", "") for form in forms_of(html) if form.method == "post"}
    assert len(tokens) == 1, tokens
    return tokens.pop()
