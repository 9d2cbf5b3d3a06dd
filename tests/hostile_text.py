"""Hostile text: a Hypothesis strategy for it, and what stored or shown text must never hold.

The strategy draws *mutations* rather than bare strings, so a field's own good value can be
spoiled a little (``"approve\\u200b"``, ``"341122100201\\u202e"``) as well as replaced: lone
surrogates, C0/C1 controls and NUL, bidirectional overrides and isolates, zero-width and other
format characters, invisible "letters" (Hangul fillers), whitespace-only and very long text,
spreadsheet formula prefixes, look-alikes (Cyrillic ``а``, full-width ``ａｄｍｉｎ``) and
decomposed accents. ``text_problems`` says what is wrong with text the service stored or sent.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from hypothesis import strategies as st

LONE_SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")
C0 = tuple(chr(c) for c in range(0x20)) + ("\x7f",)
C1 = tuple(chr(c) for c in range(0x80, 0xA0))
BIDI = ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
        "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
        "\u200e", "\u200f", "\u061c")  # marks
FORMAT = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u034f",
          "\u2061", "\u2062", "\u2063", "\u2064", "\ufff9", "\ufffa", "\ufffb",
          "\U000e0001", "\U000e0041", "\ufe0f")
# Letters (category Lo) or symbols that render as nothing.
INVISIBLE_LETTERS = ("\u3164", "\u115f", "\u1160", "\uffa0", "\u2800")
SPACES = (" ", "\u00a0", "\u1680", "\u2000", "\u2007", "\u200a", "\u2028", "\u2029",
          "\u202f", "\u205f", "\u3000", "\u0085", "\x0b", "\x0c", "\x1c", "\x1f")
ODD = ("\ufffe", "\uffff", "\U0010ffff", "\ue000", "\ufffd", "\u0301", "\u0336",
       "\U0001f600", "\u0430", "\u043e", "\u03bf", "\uff41", "\u2126", "\ufb01")
HOSTILE_CHARS = LONE_SURROGATES + C0 + C1 + BIDI + FORMAT + INVISIBLE_LETTERS + SPACES + ODD

# Text that is legal input, but a spreadsheet would run (exports must neutralise it).
FORMULAS = ("=1+1", '=HYPERLINK("http://x","y")', "@SUM(A1)", "+cmd", "-1+1", "\t=1", "\r=1",
            "=cmd|' /C calc'!A0", "＝1+1", "\u200b=1+1", " =1+1")

# One of each kind, tried on every field before anything is drawn at random.
CANONICAL = (
    "x\ud800", "a\x00b", "a\x1bb", "a\x85b", "\u202eevil", "   ", "\u200b\ufe0f", "\u3164\u3164", "=1+1",
    "cаdre1", "ａｄｍｉｎ", "e\u0301",
)

CURATED = CANONICAL + FORMULAS + (
    "\udc00x", "ok\u2066", "\u3000\u00a0", "\ud800", "\udfff", "\udc00\ud800", "\ud83d\ude00",
    "\x00", "\t", "\n", "\r\n", "\r",
    "", " x ", "x\ny", "x\ty", "x\ry", "line\u2028break", "\x7f", "\x9b31m", "\x1b[31mred",
    "admin\u200b", "\ufeffadmin", "ad\u00admin", "\u202dadmin\u202c", "\u2067abc\u2069",
    "abc\u200f", "\u061c", "\u3164\u3164", "\u2800", "\u115f", "\ufe0f", "\U000e0041",
    "\u0301", "Ａｄｍｉｎ", "ｃａｄｒｅ", "CADRE", "ΑDMIN", "ꓚadre", "zhang张", "张三\u200d",
    "\ufffe", "\uffff", "\U0010ffff", "null", "None", "undefined", "0", "-1", "1e999",
    "' OR 1=1 --", "<script>alert(1)</script>", "${jndi:ldap://x}", "%s%s%n", "../../etc/passwd",
    "2026-01-05", "2026-01-05T10:00:00+08:00", "2026-01-05T10:00:00\u200b+08:00",
    "2026-01-05T10:00:00+08:00\n", "２０２６-01-05", "approve\u200b", "ＡＰＰＲＯＶＥ",
    "341122100201\u202e", "３４１１２２１００２０１", "x" * 201, "é" * 2001, "\u202e" * 5001,
)

LONG_LENGTHS = (64, 65, 101, 201, 2001, 5001, 40_000, 300_000)


@dataclass(frozen=True)
class Literal:
    """Send this text instead of the field's good value."""
    text: str

    def apply(self, good) -> str:
        return self.text

    def __repr__(self):
        return f"Literal({_short(self.text)})"


@dataclass(frozen=True)
class Splice:
    """Put ``text`` into the field's good value at ``where`` (0: before, 1: after, else the
    middle)."""
    text: str
    where: int

    def apply(self, good) -> str:
        good = "" if good is None else str(good)
        if self.where == 0:
            return self.text + good
        if self.where == 1:
            return good + self.text
        middle = len(good) // 2
        return good[:middle] + self.text + good[middle:]

    def __repr__(self):
        return f"Splice({_short(self.text)}, where={self.where})"


@dataclass(frozen=True)
class Long:
    """The field's good value (or ``x``) repeated, with ``tail`` after it, ``length`` long."""
    tail: str
    length: int

    def apply(self, good) -> str:
        unit = (str(good) if good not in (None, "") else "x")
        body = (unit * (self.length // len(unit) + 1))[:max(0, self.length - len(self.tail))]
        return body + self.tail

    def __repr__(self):
        return f"Long(tail={_short(self.tail)}, length={self.length})"


def _short(text: str, limit: int = 80) -> str:
    shown = ascii(text)
    return shown if len(shown) <= limit else shown[:limit] + f"...' (len {len(text)})"


def mutations() -> st.SearchStrategy:
    """Hostile replacements for (or spoilings of) a string field's good value."""
    char = st.sampled_from(HOSTILE_CHARS)
    random_text = st.text(st.one_of(char, st.characters(codec="utf-8")), min_size=0,
                          max_size=12)
    return st.one_of(
        st.sampled_from(CURATED).map(Literal),
        st.builds(Splice, st.one_of(char, st.sampled_from(CURATED), random_text),
                  st.integers(0, 2)),
        random_text.map(Literal),
        st.builds(Literal, st.lists(st.sampled_from(SPACES + FORMAT + INVISIBLE_LETTERS),
                                    min_size=1, max_size=4).map("".join)),
        st.builds(Literal, st.tuples(st.sampled_from([f[:2] for f in FORMULAS] + ["="]),
                                     st.text(max_size=8)).map("".join)),
        st.builds(Long, st.sampled_from(("",) + LONE_SURROGATES[:1] + BIDI[4:5] + ("\x00",)),
                  st.sampled_from(LONG_LENGTHS)),
    )


# --- what text the service keeps or sends must not hold -------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_NOTE_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Unicode's default-ignorable code points (DerivedCoreProperties.txt): rendered as nothing.
_IGNORABLE = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
              (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
              (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
              (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
              (0xE0000, 0xE0FFF))


def shows_nothing(ch: str) -> bool:
    """Whitespace, a format character, a default-ignorable code point or the braille blank."""
    code = ord(ch)
    return (ch.isspace() or unicodedata.category(ch) == "Cf" or ch == "\u2800"
            or any(low <= code <= high for low, high in _IGNORABLE))


def is_blank(text: str) -> bool:
    """Nothing a reader could see."""
    return all(shows_nothing(ch) for ch in text)


def unstorable(text: str) -> str | None:
    """Why no database (or UTF-8) could hold this text faithfully, or None."""
    if _SURROGATE.search(text):
        return "lone surrogate"
    if "\x00" in text:
        return "NUL"
    return None


def text_problems(text: str, multiline: bool = False, whole: bool = True) -> list[str]:
    """What is wrong with ``text`` as the service stored or shows it: unstorable characters,
    control characters (newline and tab allowed when ``multiline``), bidirectional overrides or
    isolates; and, when ``whole`` (a column of its own, not a fragment of a JSON document),
    blank, untrimmed or not NFC."""
    problems = []
    reason = unstorable(text)
    if reason:
        problems.append(reason)
    control = (_NOTE_CONTROL if multiline else _CONTROL).search(text)
    if control and control.group() != "\x00":
        problems.append(f"control character {control.group()!a}")
    if _BIDI.search(text):
        problems.append(f"bidi override {_BIDI.search(text).group()!a}")
    if whole and not reason:
        if is_blank(text):
            problems.append("blank")
        elif text != text.strip():
            problems.append("not trimmed")
        if not unicodedata.is_normalized("NFC", text):
            problems.append("not NFC")
    return problems


def username_problems(name: str) -> list[str]:
    """What is wrong with a stored username: not NFKC, a character other than a letter, an
    ASCII digit or ``._-@``, or letters of more than one script (Han may join one other)."""
    problems = []
    if not unicodedata.is_normalized("NFKC", name):
        problems.append("username not NFKC")
    scripts = set()
    for ch in name:
        if ch in "._-@0123456789":
            continue
        if unicodedata.category(ch) not in ("Lu", "Ll", "Lt", "Lo"):
            problems.append(f"username holds {ch!a}")
            continue
        scripts.add(unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0])
    if len(scripts - {"CJK"}) > 1:
        problems.append(f"username mixes scripts {sorted(scripts)}")
    return problems
