"""
How names are stored and compared.

A name is stored as it displays: NFKC-normalised (a full-width "CODEPINK" becomes the ASCII
one, a ligature its letters), without Unicode format characters (category Cf: zero-width
spaces and joiners, bidirectional overrides and isolates, the byte order mark, soft hyphens),
which show nothing or reorder what is shown, and with its whitespace collapsed to single
spaces.

Two names are the same name when they look the same: `name_key` folds case and maps every
character to the prototype it can be confused with (the "skeleton" of Unicode Technical
Standard #39, computed by ICU's spoof checker), so "CODEPINK" typed with a Cyrillic Es has
the key of the Latin one. Punctuation other than look-alikes is kept: "WILPF US" and
"WILPF-US" stay two names.

The prototypes come from the confusables data of the ICU the server runs; saving a record
recomputes its key.
"""

import re
import unicodedata

import icu

_WHITESPACE = re.compile(r"\s+")
# One checker for the process: computing skeletons does not change it, and ICU allows its
# checks from several threads at once.
_SPOOF_CHECKER = icu.SpoofChecker()


def _without_format_characters(value: str) -> str:
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cf")


def normalize_name(value: str) -> str:
    """
    A name as stored: NFKC, without format characters, whitespace trimmed and collapsed.

    Format characters go first, so that the letters they separated compose; NFKC turns other
    spaces (no-break, ideographic) into plain ones, which the collapsing then joins.
    """
    value = unicodedata.normalize("NFKC", _without_format_characters(value or ""))
    return _WHITESPACE.sub(" ", value).strip()


def name_key(value: str) -> str:
    """
    The form two names are compared in: the TR39 skeleton of the case-folded, normalised
    name, case-folded again (a skeleton maps the digit 0 to the capital letter O).
    """
    folded = normalize_name(value).casefold()
    return _SPOOF_CHECKER.getSkeleton(0, folded).casefold()
