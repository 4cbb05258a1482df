"""Fill locale/<lang>/LC_MESSAGES/django.po from JSON files of {msgid: msgstr}.

    python scripts/po_fill.py export fa /tmp/fa_todo.json     # untranslated msgids -> JSON (values empty)
    python scripts/po_fill.py fill fa translations_fa.json     # write translations into the .po

Entries with plural forms take a list of strings. A translation whose %(name)s / %s
/ {name} placeholders differ from the msgid is refused and reported.
"""
import json
import re
import sys
from pathlib import Path

import polib

PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sd]|%[sd]|\{[a-z_0-9]*\}")
ROOT = Path(__file__).resolve().parent.parent


def _po(lang):
    return polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))


def export(lang, out):
    po = _po(lang)
    todo = {}
    for e in po:
        if e.obsolete:
            continue
        if e.msgid_plural:
            if not all(e.msgstr_plural.values()) or "fuzzy" in e.flags:
                todo[e.msgid] = {"plural": e.msgid_plural, "msgstr": []}
        elif not e.msgstr or "fuzzy" in e.flags:
            todo[e.msgid] = ""
    Path(out).write_text(json.dumps(todo, ensure_ascii=False, indent=1))
    print(f"{lang}: {len(todo)} of {len(po)} to translate -> {out}")


def fill(lang, src):
    po = _po(lang)
    data = json.loads(Path(src).read_text())
    bad = filled = 0
    for e in po:
        value = data.get(e.msgid)
        if not value:
            continue
        if isinstance(value, dict):
            value = value.get("msgstr")
        if e.msgid_plural:
            forms = value if isinstance(value, list) else [value]
            if any(sorted(PLACEHOLDER.findall(f)) != sorted(PLACEHOLDER.findall(e.msgid_plural)) and
                   sorted(PLACEHOLDER.findall(f)) != sorted(PLACEHOLDER.findall(e.msgid)) for f in forms):
                print("placeholder mismatch:", e.msgid, forms)
                bad += 1
                continue
            for i in range(len(e.msgstr_plural) or 2):
                e.msgstr_plural[i] = forms[min(i, len(forms) - 1)]
        else:
            if sorted(PLACEHOLDER.findall(value)) != sorted(PLACEHOLDER.findall(e.msgid)):
                print("placeholder mismatch:", e.msgid, "->", value)
                bad += 1
                continue
            e.msgstr = value
        if "fuzzy" in e.flags:
            e.flags.remove("fuzzy")
        filled += 1
    po.save()
    left = len([e for e in po if not e.obsolete and not (e.msgstr or all(e.msgstr_plural.values()) if e.msgid_plural else e.msgstr)])
    print(f"{lang}: filled {filled}, refused {bad}, untranslated left {left}")


if __name__ == "__main__":
    {"export": export, "fill": fill}[sys.argv[1]](*sys.argv[2:])
