"""
Reading a signatory list as staff paste it, and matching each line to an organisation.

Lists arrive as printed: bullets, numbering and the noise OCR makes of them ("e ", "o ",
"« ", "» "), and names such as "Name (ACRONYM)". Each line is matched, in this order, by
its exact name, an other name, an acronym, or a fuzzy match with its score; otherwise it is
new. Names are compared ignoring case, spacing, characters that look alike (a Cyrillic Es
for a Latin C, full-width letters, zero-width spaces), and the kind of dash and apostrophe.
"""

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .models import Organization, OtherName, name_key, normalize_name

FUZZY_CUTOFF = 88  # out of 100: below this a pasted name is "new", not a guess

# Bullets, middle dots, squares, circles, guillemets, arrows, dashes, tildes and pluses.
_BULLETS = "\u2022\u00b7\u25aa\u25cf\u25e6\u2023\u2043\u00ab\u00bb*>-\u2013\u2014~+"
# Leading noise, repeated: bullet characters, "1." / "1)" / "(1)" numbering, and the single
# letters OCR reads bullets as ("e", "o") when a capital or digit follows.
_LEADING = re.compile(
    rf"^(?:[{re.escape(_BULLETS)}]+\s*|\(?\d{{1,4}}[.)]\s+|[eoO]\s+(?=[A-Z0-9\"'\u201c\u2018]))+"
)
_TRAILING = re.compile("[\\s,;:\u2022\u00b7]+$")
_PRINTED = re.compile(r"^(?P<name>.+?)\s*\((?P<acronym>[^()]{1,40})\)$")
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


def match_key(name: str) -> str:
    """
    The form names are compared in: the names' key (organizations.names.name_key: case,
    spacing and look-alike characters ignored), with dashes and apostrophes ignored too.
    """
    return name_key(name.translate(_DASHES))


def _match_key_of_stored(name: str, stored_key: str) -> str:
    """match_key(name) of a stored name: its stored key, unless a dash or quote must fold."""
    if stored_key and name.translate(_DASHES) == name:
        return stored_key
    return match_key(name)


@dataclass(frozen=True)
class PastedLine:
    number: int  # the line's number in the paste, counting blank lines
    raw: str
    name: str  # as printed, noise removed: what the signature records
    base_name: str  # without a trailing "(ACRONYM)"
    acronym: str


def parse_pasted_list(text: str) -> list[PastedLine]:
    """One entry per line that names something; lines without a letter are skipped."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        name = _TRAILING.sub("", _LEADING.sub("", raw.strip()))
        name = normalize_name(name)
        if not any(ch.isalpha() for ch in name):
            continue  # blank, or only bullets, numbers and punctuation
        printed = _PRINTED.match(name)
        base, acronym = (printed["name"], printed["acronym"].strip()) if printed else (name, "")
        lines.append(PastedLine(number, raw, name, normalize_name(base), acronym))
    return lines


@dataclass(frozen=True)
class Match:
    line: PastedLine
    organization: Organization | None
    how: str  # "exact name", "other name", "acronym", "fuzzy" or "new"
    score: int | None = None  # for fuzzy matches, out of 100

    @property
    def is_new(self) -> bool:
        return self.organization is None


class Matcher:
    """
    Matches pasted lines against every organisation's names. The names are read once, as
    plain values (two queries), and the matched organisations in one more: the cost does not
    grow with the number of lines.
    """

    def __init__(self, organizations=None):
        organizations = organizations if organizations is not None else Organization.objects.all()
        self.organizations = organizations
        self.names: dict[str, int] = {}
        self.other_names: dict[str, int] = {}
        self.acronyms: dict[str, int] = {}
        rows = organizations.order_by("pk").values_list("pk", "name", "name_key", "acronym")
        for pk, name, key, acronym in rows:
            self.names.setdefault(_match_key_of_stored(name, key), pk)
            if acronym:
                self.acronyms.setdefault(match_key(acronym), pk)
        other = OtherName.objects.order_by("pk").values_list(
            "organization_id", "name", "name_key", "kind"
        )
        if organizations.query.has_filters():
            other = other.filter(organization__in=organizations.values("pk"))
        for org_id, name, key, kind in other:
            table = self.acronyms if kind == OtherName.Kind.ACRONYM else self.other_names
            table.setdefault(_match_key_of_stored(name, key), org_id)
        self.fuzzy_choices = {**self.other_names, **self.names}

    def _find(self, line: PastedLine) -> tuple[int | None, str, int | None]:
        """The id of the organisation `line` names, how it matched and the fuzzy score."""
        for candidate in dict.fromkeys([line.name, line.base_name]):
            key = match_key(candidate)
            for table, how in (
                (self.names, "exact name"),
                (self.other_names, "other name"),
                (self.acronyms, "acronym"),
            ):
                if key in table:
                    return table[key], how, None
        if line.acronym and match_key(line.acronym) in self.acronyms:
            return self.acronyms[match_key(line.acronym)], "acronym", None
        best = process.extractOne(
            match_key(line.base_name),
            self.fuzzy_choices.keys(),
            scorer=fuzz.ratio,
            score_cutoff=FUZZY_CUTOFF,
        )
        if best is not None:
            key, score, _ = best
            return self.fuzzy_choices[key], "fuzzy", round(score)
        return None, "new", None

    def match(self, line: PastedLine) -> Match:
        return self.match_all([line])[0]

    def match_all(self, lines: list[PastedLine]) -> list[Match]:
        found = [self._find(line) for line in lines]
        ids = {pk for pk, _, _ in found if pk is not None}
        by_id = self.organizations.model.objects.in_bulk(ids) if ids else {}
        return [
            Match(line, by_id[pk], how, score) if pk in by_id else Match(line, None, "new")
            for line, (pk, how, score) in zip(lines, found, strict=True)
        ]
