"""
How names are stored and compared.

A name is stored as it displays: NFKC-normalised (a full-width "CODEPINK" becomes the ASCII
one, a ligature its letters), without the characters that display as nothing or reorder what
is shown (Unicode's default-ignorable code points and format characters: zero-width spaces
and joiners, bidirectional overrides and isolates, the byte order mark, soft hyphens,
variation selectors, the combining grapheme joiner, Hangul fillers), and with its whitespace
collapsed to single spaces.

Two names are the same name when one is the other with its case changed or with characters
from outside plain ASCII put for the ASCII letters they look like: `name_key` folds case and
maps every character that is not plain ASCII to the prototype it can be confused with (the
"skeleton" of Unicode Technical Standard #39, computed by ICU's spoof checker), so "CODEPINK"
typed with a Cyrillic Es has the key of the Latin one. Plain ASCII is kept as it is: "Corner"
and "Comer", "Burn" and "Bum", "CODEPINK" and "C0DEPINK" are different names that real
organisations may have, however alike they look in some typefaces; the Likely duplicates page
lists such pairs for staff (`confusable_key`). Punctuation other than look-alikes is kept too:
"WILPF US" and "WILPF-US" stay two names.

The prototypes come from the confusables data of the ICU the server runs; saving a record
recomputes its key.
"""

import functools
import re
import unicodedata

import icu

_WHITESPACE = re.compile(r"\s+")
# One checker for the process: computing skeletons does not change it, and ICU allows its
# checks from several threads at once.
_SPOOF_CHECKER = icu.SpoofChecker()
# Characters that display as nothing: the default-ignorable code points (which hold most
# format characters) and the remaining format characters (category Cf).
_INVISIBLE = dict.fromkeys(
    ord(ch) for ch in icu.UnicodeSet(r"[[:Default_Ignorable_Code_Point:][:Cf:]]")
)


def _without_invisible_characters(value: str) -> str:
    return value.translate(_INVISIBLE)


def normalize_name(value: str) -> str:
    """
    A name as stored: NFKC, without invisible characters, whitespace trimmed and collapsed.

    Invisible characters go first, so that the letters they separated compose; NFKC turns
    other spaces (no-break, ideographic) into plain ones, which the collapsing then joins.
    """
    value = unicodedata.normalize("NFKC", _without_invisible_characters(value or ""))
    return _WHITESPACE.sub(" ", value).strip()


def _skeleton(value: str) -> str:
    return _SPOOF_CHECKER.getSkeleton(0, value)


@functools.lru_cache(maxsize=4096)
def _prototype(folded: str) -> str:
    """
    The key of one case-folded character that is not plain ASCII: the ASCII it looks like in
    small letters (a Cyrillic small o is "o") or, failing that, in capitals (a Cyrillic small
    en is "h", as its capital looks like "H"), else its TR39 prototype, case-folded.
    """
    small = _skeleton(folded).casefold()
    if small.isascii():
        return small
    capital = _skeleton(folded.upper()).casefold()
    if capital.isascii():
        return capital
    return small


def name_key(value: str) -> str:
    """
    The form two names are compared in: the case-folded, normalised name with each character
    that is not plain ASCII replaced by its prototype (see the module's description). A
    function of the case-folded name, so names differing only in case always share it.
    """
    folded = normalize_name(value).casefold()
    return "".join(ch if ch.isascii() else _prototype(ch) for ch in folded).casefold()


def confusable_key(value: str) -> str:
    """
    A looser form, for listing likely duplicates and never for refusing a name: the full TR39
    skeleton of the name as written and case-folded, in which "rn" is "m", capital "I" is a
    small "l" and "0" is "O", so "Corner"/"Comer" and "CODEPINK"/"CODEPlNK" share it.
    """
    return _skeleton(normalize_name(value)).casefold()


# Dashes and curly quotes compare as their plain forms.
_DASHES = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2010": "-",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
    }
)
_APOSTROPHES = str.maketrans(dict.fromkeys("'`\u00b4\u02bc\u02bb", ""))
_NOT_WORD = re.compile(r"[\W_]+")
# Words that say what kind of company a name is, not which: tried off.
_LEGAL = {"inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "pbc", "org"}
# Abbreviations and spellings read as the word ("Nat'l" is folded to "natl" first).
_ABBREVIATIONS = {
    "intl": "international",
    "natl": "national",
    "assn": "association",
    "assoc": "association",
    "cmte": "committee",
    "ctte": "committee",
    "ctr": "center",
    "centre": "center",
    "dept": "department",
    "defence": "defense",
    "organisation": "organization",
}


def match_key(name: str) -> str:
    """
    The stricter form a new organisation's name is checked in: the names' key
    (organizations.names.name_key: case, spacing and look-alike characters ignored), with
    dashes and apostrophes ignored too.
    """
    return name_key(name.translate(_DASHES))


def fold(name: str) -> str:
    """
    The one normalised form names are compared in: match_key's, then without diacritics
    ("é" is "e") or apostrophes ("T'ruah" is "truah"), "&" read as "and", and every other
    run of punctuation a single space.
    """
    key = unicodedata.normalize("NFKD", match_key(name))
    key = "".join(ch for ch in key if not unicodedata.combining(ch))
    key = key.translate(_APOSTROPHES).replace("&", " and ")
    return " ".join(_ABBREVIATIONS.get(word, word) for word in _NOT_WORD.sub(" ", key).split())


def trimmed(key: str) -> str:
    """A folded name without a leading "the" and trailing legal words ("inc", "llc")."""
    words = key.split()
    while len(words) > 1 and words[-1] in _LEGAL:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def compact(key: str) -> str:
    """A folded name without its spaces: how acronyms, and names spaced apart, compare."""
    return key.replace(" ", "")
