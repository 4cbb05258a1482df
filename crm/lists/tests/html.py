"""A small HTML reader for the list tests: the page as a tree of elements, so a test follows the links the
page renders (header sorts, Next and Previous) instead of building URLs by hand."""
from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict, parent: Element | None = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list[Element]:
        """Elements by tag and attributes (`data_page="next"` for data-page; True: the attribute is there)."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        found = []
        for el in self.iter():
            if tag is not None and el.tag != tag:
                continue
            if all((k in el.attrs) if v is True else el.attrs.get(k) == v for k, v in wanted.items()):
                found.append(el)
        return found

    def find(self, tag: str | None = None, **attrs) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def get(self, name: str, default=None):
        return self.attrs.get(name, default)


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        el = Element(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(el)
        if tag not in VOID:
            self.current = el

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(content: bytes | str) -> Element:
    builder = _Builder()
    builder.feed(content.decode() if isinstance(content, bytes) else content)
    builder.close()
    return builder.root


def href(element: Element | None) -> str | None:
    """The link's address as the browser would follow it."""
    return element.get("href") if element is not None else None  # HTMLParser has unescaped it
