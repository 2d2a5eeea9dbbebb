"""
Pairs of organisation records that are probably one organisation, for staff to merge.

A pair is listed when the two names are the same apart from case, punctuation, a leading
"The", "&" for "and" or a trailing "Inc."; when they look alike letter for letter, as
"Corner" and "Comer" or "CODEPINK" and "CODEPlNK" do (organizations.names.confusable_key:
names distinct organisations may have, so not refused, but as often one record mistyped);
when one's name is the other's acronym or other name; when they share an acronym (or its
first word, as "AJP" and "AJP Action" do); or when their names are similar (fuzzy score at
least FUZZY_CUTOFF out of 100) and differ by misspellings only, not by a whole word: sibling
chapters ("… in Houston" and "… in Boston") are not duplicates.

Comparing every name with every other would take quadratic time, so similar names are only
looked for among names sharing their first or their last word.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from django.db.models import Count
from rapidfuzz import fuzz, process

from .judgements import apart_pairs
from .matching import FUZZY_CUTOFF, fold, misspelt, trimmed
from .models import Organization, OtherName
from .names import confusable_key

MAX_PAIRS = 200
_SPELT_APART = re.compile(r"\b\w(?: \w\b)+")
SAME_NAME, ALIAS, LOOK_ALIKE, SAME_ACRONYM, SIMILAR_ACRONYM = 100, 100, 95, 90, 75


def loose_key(name: str) -> str:
    """
    The form in which two names are "the same": the matcher's one normalised key (case,
    punctuation, apostrophes, diacritics and "&" against "and" ignored), without a leading
    "The" or a company suffix such as "Inc.".
    """
    return trimmed(fold(name))


def acronym_key(acronym: str) -> str:
    """
    An acronym folded, with its letters spelt apart joined: "W.F.P." is "wfp", "MCC U.S." is
    "mcc us", and "AJP Action" keeps its two words (see _similar_acronyms).
    """
    return _SPELT_APART.sub(lambda found: found[0].replace(" ", ""), fold(acronym))


@dataclass
class Pair:
    first: Organization
    second: Organization
    score: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def both(self) -> tuple[Organization, Organization]:
        return self.first, self.second

    def add(self, score: int, reason: str):
        self.score = max(self.score, score)
        if reason not in self.reasons:
            self.reasons.append(reason)


@dataclass
class Duplicates:
    pairs: list[Pair]  # the best MAX_PAIRS, most likely first
    total: int  # pairs found in all


class _Finder:
    def __init__(self, organizations):
        self.by_id = {org.pk: org for org in organizations}
        self.pairs: dict[tuple[int, int], Pair] = {}

    def add(self, a: int, b: int, score: int, reason: str):
        if a == b:
            return
        key = (a, b) if a < b else (b, a)
        if key not in self.pairs:
            self.pairs[key] = Pair(self.by_id[key[0]], self.by_id[key[1]])
        self.pairs[key].add(score, reason)

    def add_groups(self, groups: dict[str, set[int]], score: int, reason):
        for key, ids in groups.items():
            for a, b in combinations(sorted(ids), 2):
                self.add(a, b, score, reason(key, a, b))


def find_duplicates(organizations=None, limit: int = MAX_PAIRS) -> Duplicates:
    """Likely duplicate pairs among `organizations` (default: all), most likely first."""
    organizations = list(
        (organizations if organizations is not None else Organization.objects.all()).only(
            "pk", "name", "slug", "acronym"
        )
    )
    finder = _Finder(organizations)
    names: dict[str, set[int]] = defaultdict(set)
    look_alike: dict[str, set[int]] = defaultdict(set)
    aliases: dict[str, set[int]] = defaultdict(set)  # acronyms and other names
    acronyms: dict[str, set[int]] = defaultdict(set)
    printed: dict[tuple[int, str], str] = {}  # (organisation, key): an acronym as written
    for org in organizations:
        names[loose_key(org.name)].add(org.pk)
        look_alike[confusable_key(org.name)].add(org.pk)
        if org.acronym:
            aliases[loose_key(org.acronym)].add(org.pk)
            acronyms[acronym_key(org.acronym)].add(org.pk)
            printed[org.pk, acronym_key(org.acronym)] = org.acronym
    other_names = OtherName.objects.filter(organization_id__in=finder.by_id).values_list(
        "organization_id", "name", "kind"
    )
    for org_id, name, kind in other_names:
        aliases[loose_key(name)].add(org_id)
        if kind == OtherName.Kind.ACRONYM:
            acronyms[acronym_key(name)].add(org_id)
            printed.setdefault((org_id, acronym_key(name)), name)
    names.pop("", None)
    aliases.pop("", None)
    acronyms.pop("", None)

    by_id = finder.by_id
    finder.add_groups(
        names,
        SAME_NAME,
        lambda key, a, b: "Same name, apart from case, punctuation, “The”, “&” or “Inc.”",
    )
    finder.add_groups(
        look_alike,
        LOOK_ALIKE,
        lambda key, a, b: f"The names look alike: “{by_id[a].name}” and “{by_id[b].name}”",
    )
    for key, ids in names.items():
        for a in ids:
            for b in aliases.get(key, ()):
                finder.add(a, b, ALIAS, f"“{by_id[a].name}” is an other name or acronym of "
                                        f"“{by_id[b].name}”")  # fmt: skip
    finder.add_groups(
        acronyms,
        SAME_ACRONYM,
        lambda key, a, b: f"Same acronym, “{printed.get((a, key), key.upper())}”",
    )
    _similar_acronyms(finder, acronyms, printed)
    _similar_names(finder, names)

    judged = apart_pairs()
    ranked = sorted(
        (pair for key, pair in finder.pairs.items() if key not in judged),
        key=lambda pair: (-pair.score, pair.first.name.lower(), pair.second.name.lower()),
    )
    shown = ranked[:limit]
    _attach_signature_counts(shown)
    return Duplicates(pairs=shown, total=len(ranked))


def _similar_acronyms(finder: _Finder, acronyms: dict[str, set[int]], printed: dict):
    """Acronyms whose first word is the same, such as "AJP" and "AJP Action"."""
    by_first_word: dict[str, set[str]] = defaultdict(set)
    for key in acronyms:
        first = key.split()[0]
        if len(first) >= 2:
            by_first_word[first].add(key)
    for keys in by_first_word.values():
        for key_a, key_b in combinations(sorted(keys), 2):
            for a in acronyms[key_a]:
                for b in acronyms[key_b]:
                    finder.add(a, b, SIMILAR_ACRONYM, f"Similar acronyms, “{printed[a, key_a]}” "
                                                      f"and “{printed[b, key_b]}”")  # fmt: skip


def _similar_names(finder: _Finder, names: dict[str, set[int]]):
    """Fuzzy-similar names among those sharing their first or last word."""
    blocks: dict[str, list[str]] = defaultdict(list)
    for key in names:
        words = key.split()
        for word in {f"first:{words[0]}", f"last:{words[-1]}"}:
            blocks[word].append(key)
    for keys in blocks.values():
        for index, key in enumerate(keys):
            found = process.extract(
                key, keys[index + 1 :], scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=None
            )
            for other_key, score, _ in found:
                if not misspelt(key, other_key):
                    continue  # a word apart: "… in Houston" and "… in Boston"
                for a in names[key]:
                    for b in names[other_key]:
                        finder.add(a, b, round(score), f"Similar names (score {round(score)})")


def _attach_signature_counts(pairs: list[Pair]):
    ids = {org.pk for pair in pairs for org in (pair.first, pair.second)}
    counts = dict(
        Organization.objects.filter(pk__in=ids)
        .annotate(count=Count("signatures"))
        .values_list("pk", "count")
    )
    for pair in pairs:
        for org in (pair.first, pair.second):
            org.signature_count = counts.get(org.pk, 0)
