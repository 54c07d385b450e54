"""Every interface string has a Romanian translation, and the compiled catalogue is current."""

import ast
import gettext
from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "cetatea" / "locale" / "ro" / "LC_MESSAGES"


def _po_entries(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of every entry of a .po file.

    For a plural entry, msgstr is the shortest of its forms (empty if any is empty) and
    msgid is prefixed with "plural:" so that the compiled-catalogue check skips it. An
    entry with a context has msgid ``context\x04msgid``, the key gettext looks up.
    """
    entries, msgid, forms, fuzzy, target, plural = [], None, [], False, None, False
    context = None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgctxt "):
            context = ast.literal_eval(line[8:])
        elif line.startswith("msgid "):
            msgid, target = ast.literal_eval(line[6:]), "id"
        elif line.startswith("msgid_plural "):
            plural, target = True, "plural"
        elif line.startswith("msgstr"):
            forms.append(ast.literal_eval(line.split(" ", 1)[1]))
            target = "str"
        elif line.startswith('"') and target == "id":
            msgid += ast.literal_eval(line)
        elif line.startswith('"') and target == "str":
            forms[-1] += ast.literal_eval(line)
        elif not line.strip() and msgid is not None:
            msgstr = min(forms, key=len) if forms else ""
            if context is not None:
                msgid = f"{context}\x04{msgid}"
            entries.append(((f"plural:{msgid}" if plural else msgid), msgstr, fuzzy))
            msgid, forms, fuzzy, target, plural = None, [], False, None, False
            context = None
    return entries


def test_every_string_is_translated_to_romanian():
    entries = [e for e in _po_entries(LOCALE / "django.po") if e[0]]
    assert len(entries) > 100
    untranslated = [m for m, s, _ in entries if not s]
    fuzzy = [m for m, _, f in entries if f]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"


def test_compiled_catalogue_matches_the_po_file():
    with (LOCALE / "django.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [
        m
        for m, s, _ in _po_entries(LOCALE / "django.po")
        if m and not m.startswith("plural:") and compiled.gettext(m) != s
    ]
    assert not stale, f"run msgfmt / compilemessages: {stale[:5]}"


def test_romanian_uses_comma_below_letters():
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    assert "ş" not in text and "ţ" not in text and "Ş" not in text and "Ţ" not in text
