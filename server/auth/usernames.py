"""What a username may be, and the one key it is compared by.

A username is NFKC-normalised (full-width ``ａｄｍｉｎ`` is ``admin``; a decomposed ``émile`` is
the composed one) and compared case-folded, so look-alike spellings are one account, not two.
It holds letters, ASCII digits and ``._-@`` only — no spaces, invisible or format characters,
no bidirectional overrides — and its letters come from one script (Han may join Latin, as
in ``zhang张``): ``cаdre1`` with a Cyrillic ``а`` is refused, not a second ``cadre1``.
"""
from __future__ import annotations

import hashlib
import unicodedata

MIN_LENGTH, MAX_LENGTH = 2, 64
_PUNCTUATION = frozenset("._-@")
_DIGITS = frozenset("0123456789")
_LETTER_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lo"})
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")  # Hangul fillers: letters that show nothing
_HAN = "CJK"  # unicodedata names Han ideographs "CJK UNIFIED IDEOGRAPH-…"
MAX_KEY_LENGTH = 200  # the login throttle's key column


class UsernameInvalid(ValueError):
    """Why a username is refused (a short English reason, shown beside the field)."""


def username_key(raw: str) -> str:
    """The form usernames are unique by and logged in with: NFKC, case-folded."""
    key = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).strip().casefold())
    if len(key) > MAX_KEY_LENGTH:  # only a name that could never be stored gets this long
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key


def _script(ch: str) -> str:
    return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]


def clean_username(raw: str) -> str:
    """Return the username as stored (NFKC, trimmed), or raise UsernameInvalid."""
    name = unicodedata.normalize("NFKC", raw).strip()
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        raise UsernameInvalid(f"{MIN_LENGTH}–{MAX_LENGTH} characters")
    scripts = set()
    for ch in name:
        if ch in _PUNCTUATION or ch in _DIGITS:
            continue
        if unicodedata.category(ch) not in _LETTER_CATEGORIES or ch in _FILLERS:
            raise UsernameInvalid("only letters, digits and . _ - @")
        scripts.add(_script(ch))
    if len(scripts - {_HAN}) > 1:
        raise UsernameInvalid("letters from more than one script")
    return name
