"""Language-neutral text normalisation: NFC, case folding, Vietnamese tone placement, masking of contacts, diacritic stripping."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "EMAIL_TOKEN",
    "PHONE_TOKEN",
    "URL_TOKEN",
    "normalize_text",
    "normalize_untoned",
    "untoned_words",
    "place_tone_mark",
    "place_tone_marks",
    "strip_diacritics",
]

# Placeholders are plain word characters so that every tokenizer keeps them whole
# and a second normalisation pass leaves them alone.
URL_TOKEN = "_url_"
EMAIL_TOKEN = "_email_"
PHONE_TOKEN = "_phone_"

# Invisible format characters (zero-width spaces, joiners, soft hyphen, BOM) split
# or glue words without being seen; they go before NFC so composition can happen.
_FORMAT_CHARS = {
    cp: None
    for cp in (0x00AD, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0x2061,
               0x2062, 0x2063, 0x2064, 0xFEFF, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E)
}
# C0/C1 controls become spaces: a NUL in the middle of a word still separates words.
_CONTROL_CHARS = {cp: " " for cp in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
_CLEANUP = {**_CONTROL_CHARS, **_FORMAT_CHARS}
# Ordinary whitespace is left to str.split(); the translate table only runs when needed.
_NEEDS_CLEANUP = re.compile(
    "[" + "".join(re.escape(chr(cp)) for cp in sorted(_CLEANUP) if cp not in (9, 10, 13)) + "]"
)

# Every pattern starts with a lookbehind that allows only the first character of a
# run as a start, so matching stays linear on hostile input ("a.a.a.a..." x 1e6).
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_URL = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]}]"
    r"|(?<![\w.\-@])[a-z0-9][a-z0-9.\-]*"
    r"\.(?:com|net|org|info|biz|gov|edu|int|vn|hu|io|co|uk|de|fr|us|eu|me|ly|app)(?![\w\-])"
    r"(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)\]}])?"
)
_WORD = re.compile(r"\w+")
# Every URL _URL matches has "://", "www." or one of these endings; two plain
# substring tests and one regex with a literal first character are cheaper
# than one alternation tried at every position.
_URL_ENDING = re.compile(r"\.(?:com|net|org|info|biz|gov|edu|int|vn|hu|io|co|uk|de|fr|us|eu|me|ly|app)\b")
# Every number _mask_phones masks has 7 or more digits with at most two of
# " .-()" between neighbouring digits. Unlike _PHONE this starts with a plain
# character class, which the regex engine skips to quickly: a cheap first test.
_PHONE_HINT = re.compile(r"\d(?:[\s.\-()]{0,2}\d){6}")
# The same before whitespace is collapsed, where a run of spaces may stand for one.
_LOOSE_PHONE_HINT = re.compile(r"\d(?:[\s.\-()]*\d){6}")
# Candidates are generous; _phone_digits() then demands enough digits, so dates
# (01.02.2024), amounts (12.500.000) and house numbers survive.
_PHONE = re.compile(
    r"(?<![\w+.\-])(?:"
    r"\+\d{1,3}[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?\d{1,4}(?:[\s.\-]?\d{1,4}){1,5}(?:[\s.\-]?x{1,4})?"
    r"|\(\+\d{1,3}\)[\s.\-]?\d{1,4}(?:[\s.\-]?\d{1,4}){1,5}(?:[\s.\-]?x{1,4})?"
    r"|\(?0\d{1,3}\)?(?:[\s.\-]?\d{1,4}){1,5}(?:[\s.\-]?x{1,4})?"
    r"|1[89]00[\s.\-]?\d{2,4}(?:[\s.\-]?\d{1,4})?"
    r"|\(\d{3}\)[\s.\-]?\d{3}[\s.\-]\d{4}"
    r"|\d{3}[.\-]\d{3}[.\-]\d{4}"
    r")(?![\w])"
)


def _phone_digits(found: str) -> tuple[bool, int]:
    """Whether a candidate has enough digits for a phone number, and how many it has."""
    digits = sum(ch.isdigit() for ch in found)
    total = digits + found.count("x")
    if found.startswith(("+", "(+")):
        return digits >= 7 and total >= 8, total
    if found.startswith(("0", "(0")):
        # Vietnamese numbers with the trunk 0 have 10 (mobile) or 11 (landline) digits.
        return digits >= 7 and total >= 9, total
    return digits >= 8, total


def _mask_phones(text: str) -> str:
    out: list[str] = []
    pos = 0
    while (match := _PHONE.search(text, pos)) is not None:
        found = match.group(0)
        enough, total = _phone_digits(found)
        end = match.end()
        if not (enough and total <= 15):
            end = match.start() + _first_number_length(found) if total > 15 else 0
            if end <= match.start():
                out.append(text[pos : match.end()])
                pos = match.end()
                continue
        out.append(text[pos : match.start()])
        out.append(f" {PHONE_TOKEN} ")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _first_number_length(found: str) -> int:
    """Several numbers one after another ("0912 345 678 0987 654 321"): the length
    of the shortest leading run of groups that makes a whole number, or 0."""
    pieces = found.split(" ")
    for cut in range(1, len(pieces)):
        head = " ".join(pieces[:cut])
        enough, total = _phone_digits(head)
        if enough and 10 <= total <= 15:
            return len(head)
    return 0


# --- Vietnamese tone marks -------------------------------------------------------

_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
_MODIFIERS = frozenset("\u0302\u0306\u031b")  # circumflex (â ê ô), breve (ă), horn (ơ ư)
_VOWELS = frozenset("aeiouy")
_ONSETS = frozenset(
    "b c ch d đ g gh h k kh l m n ng ngh nh p ph r s t th tr v x".split()
)
_CODAS = frozenset(["", "c", "ch", "m", "n", "ng", "nh", "p", "t"])
# Vowel clusters of Vietnamese rhymes, as NFC letters without tone. A word whose
# cluster is not listed is not Vietnamese (French "où", Hungarian "fiú") and is left alone.
_CLUSTERS = frozenset(
    "a ă â e ê i o ô ơ u ư y "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ uy ưa ưi ưu ươ yê "
    "iêu yêu oai oay oeo uây uôi uya uyê uyu ươi ươu".split()
)
_TONED_LETTER_CLASS = "".join(
    sorted(
        {
            unicodedata.normalize("NFC", base + mod + tone)
            for base in "aeiouy"
            for mod in ("", "\u0302", "\u0306", "\u031b")
            for tone in _TONES
        }
        - {""}
    )
)
# Only words carrying a tone go through the (cached) syllable analysis.
# The lookbehind makes the lookahead run once per word, not once per letter.
_TONED_WORD = re.compile(rf"(?<![^\W\d_])(?=[^\W\d_]*[{_TONED_LETTER_CLASS}])[^\W\d_]+")


# What a word must look like for _place_tone_mark to change it: consonants, then
# vowels, then consonants, letters possibly carrying marks (in any composition).
# A cheap first test: most foreign words (Hungarian "járda", "utca") fail it.
_MARK_CHARS = "".join(sorted(_TONES | _MODIFIERS))
_CONSONANT_CHARS = "".join(
    sorted({ch for c in "bcdđghklmnpqrstvx" for t in ("", *_TONES) for ch in unicodedata.normalize("NFC", c + t)})
)
_VOWEL_CHARS = "".join(
    sorted(
        {
            ch
            for v in "aeiouy"
            for m in ("", *_MODIFIERS)
            for t in ("", *_TONES)
            for ch in unicodedata.normalize("NFC", v + m + t)
        }
    )
)
_SYLLABLE_SHAPE = re.compile(
    f"[{_CONSONANT_CHARS}{_MARK_CHARS}]*[{_VOWEL_CHARS}{_MARK_CHARS}]+[{_CONSONANT_CHARS}{_MARK_CHARS}]*"
)


@lru_cache(maxsize=65536)
def place_tone_mark(syllable: str) -> str:
    """Put the tone of one lower-case Vietnamese syllable where the traditional style puts it.

    Traditional ("kiểu cũ") placement is the canonical one: hòa, thủy, khỏe, quý.
    Anything that is not a single well-formed syllable with one tone comes back unchanged.
    """
    if not _SYLLABLE_SHAPE.fullmatch(syllable):
        return syllable
    return _place_tone_mark(syllable)


def _place_tone_mark(syllable: str) -> str:
    letters: list[list[str]] = []  # [base, modifiers]
    tone = ""
    for ch in unicodedata.normalize("NFD", syllable):
        if ch in _TONES:
            if tone or not letters:
                return syllable
            tone = ch
        elif ch in _MODIFIERS:
            if not letters or letters[-1][0] not in _VOWELS or letters[-1][1]:
                return syllable
            letters[-1][1] = ch
        elif "a" <= ch <= "z" or ch == "đ":
            letters.append([ch, ""])
        else:
            return syllable
    if not tone:
        return syllable

    bases = "".join(base for base, _ in letters)
    start = 0
    while start < len(bases) and bases[start] not in _VOWELS:
        start += 1
    onset = bases[:start]
    # "qu" and "gi" are consonants when another vowel follows: quý, giá, but gì.
    if onset == "q" and bases[start : start + 1] == "u" and not letters[start][1]:
        start += 1
        onset = "qu"
    elif (
        onset == "g"
        and bases[start : start + 1] == "i"
        and start + 1 < len(bases)
        and bases[start + 1] in _VOWELS
    ):
        start += 1
        onset = "gi"
    end = start
    while end < len(bases) and bases[end] in _VOWELS:
        end += 1
    coda = bases[end:]
    if end == start or (onset and onset not in _ONSETS and onset not in ("qu", "gi")):
        return syllable
    if coda not in _CODAS:
        return syllable
    nucleus = letters[start:end]
    cluster = unicodedata.normalize("NFC", "".join(base + mod for base, mod in nucleus))
    if cluster not in _CLUSTERS:
        return syllable

    modified = [i for i, (_, mod) in enumerate(nucleus) if mod]
    if modified:
        target = modified[-1]  # ươ -> ơ, uyê -> ê, ưa -> ư
    elif coda:
        target = len(nucleus) - 1  # hoàn, huỳnh
    elif len(nucleus) == 3:
        target = 1  # ngoài, khuỷu
    else:
        target = 0  # hòa, thủy, khỏe, mùa
    rebuilt = []
    for i, (base, mod) in enumerate(letters):
        rebuilt.append(base + mod + (tone if i == start + target else ""))
    return unicodedata.normalize("NFC", "".join(rebuilt))


def _retone(match: re.Match[str]) -> str:
    return place_tone_mark(match.group(0))


# Whitespace-separated chunks repeat a lot ("nước,", "đường"); remembering each
# chunk's result avoids a regex callback per word. Bounded: cleared when full.
_RETONED_CHUNKS: dict[str, str] = {}
_RETONED_CHUNKS_MAX = 200_000


def _retone_chunk(chunk: str) -> str:
    if len(_RETONED_CHUNKS) >= _RETONED_CHUNKS_MAX:
        _RETONED_CHUNKS.clear()
    result = _RETONED_CHUNKS[chunk] = _TONED_WORD.sub(_retone, chunk)
    return result


def normalize_text(text: str) -> str:
    """Return the canonical form of a citizen's text: the same words always look the same.

    NFC, case folded, one whitespace between words, Vietnamese tones placed in the
    traditional style, URLs / e-mail addresses / phone numbers replaced by
    ``_url_`` / ``_email_`` / ``_phone_``. Never raises for a str; idempotent.
    """
    known = _RETONED_CHUNKS.get
    return " ".join([known(chunk) or _retone_chunk(chunk) for chunk in normalize_untoned(text).split()])


def normalize_untoned(text: str) -> str:
    """``normalize_text`` without the tone placement, which only moves marks inside words.

    Tone placement works on runs of letters, and a run never straddles two ``\\w+``
    words, so ``place_tone_marks`` applied to each word of this text gives the words of
    ``normalize_text``: callers that cache per word place the tones once per
    distinct word instead of once per text.
    """
    # Whitespace is unified before masking so "0912  345 678" and "0912 345 678" mask alike.
    return _masked(" ".join(_folded(text).split()))


def untoned_words(text: str) -> list[str]:
    """The words (``\\w+``) of ``normalize_untoned(text)``.

    Whitespace is collapsed only when something may be masked: the masks are
    the only step it changes, and words never contain whitespace.
    """
    text = _folded(text)
    if "@" in text or _may_have_url(text) or _LOOSE_PHONE_HINT.search(text):
        text = _masked(" ".join(text.split()))
    return _WORD.findall(text)


def _folded(text: object) -> str:
    """Invisible and control characters cleaned up, NFC, case folded."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if _NEEDS_CLEANUP.search(text):
        text = text.translate(_CLEANUP)
    text = unicodedata.normalize("NFC", text)
    return unicodedata.normalize("NFC", text.casefold())


def _may_have_url(text: str) -> bool:
    return "://" in text or "www." in text or _URL_ENDING.search(text) is not None


def _masked(text: str) -> str:
    """E-mail addresses, URLs and phone numbers of whitespace-collapsed text replaced."""
    if "@" in text:
        text = _EMAIL.sub(f" {EMAIL_TOKEN} ", text)
    if _may_have_url(text):
        text = _URL.sub(f" {URL_TOKEN} ", text)
    if _PHONE_HINT.search(text):
        text = _mask_phones(text)
    return text


def place_tone_marks(text: str) -> str:
    """The traditional tone placement in every word of ``normalize_untoned``'s output
    (or of its words joined by any non-letter, to do many words in one call)."""
    return text if text.isascii() else _TONED_WORD.sub(_retone, text)


# Letters with a stroke or a special shape have no decomposition, so NFD keeps them.
_UNDECOMPOSABLE = str.maketrans(
    {"đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O",
     "ħ": "h", "Ħ": "H", "ı": "i", "ŧ": "t", "Ŧ": "T", "ƀ": "b", "ɨ": "i", "ʉ": "u"}
)
_NONSPACING_MARKS = {
    cp: None
    for cp in range(0x110000)
    if unicodedata.category(chr(cp)) == "Mn"
}


def strip_diacritics(text: str) -> str:
    """Remove accents and tone marks (đ -> d too), so "đường ngập nước" reads "duong ngap nuoc"."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if text.isascii():
        return text
    text = unicodedata.normalize("NFD", text).translate(_NONSPACING_MARKS)
    return unicodedata.normalize("NFC", text.translate(_UNDECOMPOSABLE))
