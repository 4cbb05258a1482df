"""Rich text of notes and e-mails: sanitized with nh3 (a whitelist of tags, attributes and URL schemes) on the
way in and again on the way out, so no stored note or template can ever run script, and a plain-text twin
for search, scoring, e-mail text parts and calendar descriptions."""
from __future__ import annotations

import re
from html import escape, unescape

import nh3

TAGS = frozenset({"p", "br", "div", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "a", "blockquote",
                  "h3", "h4", "code", "pre", "hr", "span"})
ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_BLOCK_END = re.compile(r"</(p|div|li|h3|h4|blockquote|pre|ul|ol)\s*>|<br\s*/?>|<hr\s*/?>", re.I)
_TAG = re.compile(r"<[^>]*>")
_BLANK_LINES = re.compile(r"\n{3,}")
# HTML from the editor always holds one of our tags (the editor wraps a bare line in <p>); anything else is
# plain text from a browser without script, where "a <b" or "<line>" are words to keep, not markup.
_HAS_TAG = re.compile(r"</?(?:%s)\b[^>]*>" % "|".join(sorted(TAGS, key=len, reverse=True)), re.I)


def sanitize(html: str) -> str:
    """Only harmless formatting survives: no script or style (their content is dropped too), no event
    handlers, no `javascript:`/`data:` links, no styles, no images that would call home; links get
    rel="noopener noreferrer nofollow"."""
    if not html:
        return ""
    return nh3.clean(html, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer nofollow",
                     strip_comments=True).strip()


def from_plain(text: str) -> str:
    """Plain text (a textarea without the editor, a logged e-mail) as sanitized HTML paragraphs."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ""
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def clean_input(value: str) -> str:
    """What an editor posted: HTML from the formatting toolbar, or plain text when the browser ran no script."""
    value = (value or "").strip()
    if not value:
        return ""
    return sanitize(value if _HAS_TAG.search(value) else from_plain(value))


def to_text(html: str) -> str:
    """The readable text of sanitized HTML: blocks and line breaks become new lines."""
    if not html:
        return ""
    text = re.sub(r"</p\s*>", "\n\n", html, flags=re.I)  # paragraphs keep a blank line between them
    text = _BLOCK_END.sub("\n", text)
    text = re.sub(r"<li[^>]*>", "• ", text, flags=re.I)
    text = unescape(_TAG.sub("", text))
    lines = [line.strip() for line in text.replace("\r", "").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
