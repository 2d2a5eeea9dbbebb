"""
Reading a signatory list as staff paste it, and matching each line to an organisation.

Lists arrive as printed: bullets, numbering and the noise OCR makes of them ("e ", "o ",
"« ", "» "), and names such as "Name (ACRONYM)". Every line ends as one of:

- **exact name**, **other name** or **acronym**: the line is one of the organisation's names
  as stored, compared in one normalised form (`fold`: case, spacing, punctuation, "&" for
  "and", apostrophes, diacritics and look-alike characters ignored), or differs from it only
  by a leading "The", a legal suffix such as "Inc." or the spaces inside it ("Code Pink");
  acronyms are compared without their punctuation ("WILPF-US" is "WILPF US"), and a
  bracketed acronym is tried against names, other names and acronyms ("Democracy for the
  Arab World Now (DAWN)" is DAWN). These need no decision.
- **suggested**: a plausible organisation, with why and a score, for staff to confirm: the
  name before a colon ("Codepink: Women for Peace"), a stored name without its bracket or
  without "Action", the initials of exactly one organisation ("NIAC"), or a name that differs
  by misspellings only. Names differing by a whole word ("… in Houston" and "… in Boston")
  are never suggested for each other.
- **new**: nothing plausible.

`fold` is the one key pasted lines, the duplicates page and staff's judgements compare names
in. Staff's "not the same" judgements (organizations.judgements) are respected: a pair judged
apart is never suggested.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from .models import Judgement, Organization, OtherName, normalize_name
from .names import compact, fold, match_key, trimmed  # noqa: F401 (match_key: for callers)

FUZZY_CUTOFF = 85  # out of 100: a similar name below this is not suggested

# Bullets, middle dots, squares, circles, guillemets, arrows, dashes, tildes and pluses.
_BULLETS = "\u2022\u00b7\u25aa\u25cf\u25e6\u2023\u2043\u00ab\u00bb*>-\u2013\u2014~+"
# Leading noise, repeated: bullet characters, "1." / "1)" / "(1)" numbering, and the single
# letters OCR reads bullets as ("e", "o") when a capital or digit follows.
_LEADING = re.compile(
    rf"^(?:[{re.escape(_BULLETS)}]+\s*|\(?\d{{1,4}}[.)]\s+|[eoO]\s+(?=[A-Z0-9\"'\u201c\u2018]))+"
)
_TRAILING = re.compile("[\\s,;:\u2022\u00b7]+$")
_PRINTED = re.compile(r"^(?P<name>.+?)\s*\((?P<bracket>[^()]{1,40})\)$")
# Words initials skip ("Churches for Middle East Peace" is CMEP).
_MINOR = {"a", "an", "and", "at", "for", "in", "of", "on", "the", "to"}


def initials(key: str) -> tuple[str, ...]:
    """The initials a folded name could be known by: of its main words, and of all of them."""
    words = key.split()
    main = [word for word in words if word not in _MINOR]
    found = []
    for chosen in (main, words):
        # A word of digits or a short all-capital word is kept whole ("US", "9to5").
        letters = "".join(word[0] for word in chosen)
        if len(chosen) >= 2 and letters not in found:
            found.append(letters)
    return tuple(found)


def _is_acronym_like(text: str) -> bool:
    """Printed as an acronym: one or two short words, mostly capitals ("NIAC", "AJP Action")."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or len(text.split()) > 2 or len(compact(fold(text))) > 12:
        return False
    first = text.split()[0]
    capitals = [ch for ch in first if ch.isalpha()]
    return len(capitals) >= 2 and sum(ch.isupper() for ch in capitals) >= len(capitals) - 1


def _brackets_an_acronym(base: str, bracket: str) -> bool:
    """
    Whether "base (bracket)" prints a name and its acronym: the bracket is acronym-like and
    starts as the name does (after "The"). "Presbyterian Church (U.S.A.)" keeps its bracket.
    """
    base_key, bracket_key = trimmed(fold(base)), compact(fold(bracket))
    return bool(base_key and bracket_key) and (
        _is_acronym_like(bracket) and bracket_key[0] == base_key[0]
    )


@dataclass(frozen=True)
class PastedLine:
    number: int  # the line's number in the paste, counting blank lines
    raw: str
    name: str  # as printed, noise removed: what the signature records
    base_name: str  # without a trailing "(ACRONYM)"
    acronym: str
    bracket: str = ""  # a trailing bracket's text, acronym or not


def read_name(number: int, raw: str, name: str) -> PastedLine:
    """A line for `name` (normalised): its base name, and its acronym if brackets print one."""
    printed = _PRINTED.match(name)
    if printed is None:
        return PastedLine(number, raw, name, name, "")
    base, bracket = normalize_name(printed["name"]), printed["bracket"].strip()
    if _brackets_an_acronym(base, bracket):
        return PastedLine(number, raw, name, base, bracket, bracket)
    return PastedLine(number, raw, name, name, "", bracket)


def parse_pasted_list(text: str) -> list[PastedLine]:
    """One entry per line that names something; lines without a letter are skipped."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        name = _TRAILING.sub("", _LEADING.sub("", raw.strip()))
        name = normalize_name(name)
        if not any(ch.isalpha() for ch in name):
            continue  # blank, or only bullets, numbers and punctuation
        lines.append(read_name(number, raw, name))
    return lines


# --- Matching -------------------------------------------------------------------------

EXACT_NAME, OTHER_NAME, ACRONYM, SUGGESTED, NEW = (
    "exact name",
    "other name",
    "acronym",
    "suggested",
    "new",
)
MATCHED = (EXACT_NAME, OTHER_NAME, ACRONYM)


@dataclass(frozen=True)
class Candidate:
    organization_id: int
    score: int  # out of 100
    why: str


@dataclass(frozen=True)
class Match:
    line: PastedLine
    organization: Organization | None  # for a suggestion, the most likely candidate
    how: str  # EXACT_NAME, OTHER_NAME, ACRONYM, SUGGESTED or NEW
    score: int | None = None  # for suggestions, out of 100
    why: str = ""  # how the line relates to the organisation, in words
    candidates: tuple[Candidate, ...] = ()  # for suggestions, every one, most likely first

    @property
    def is_new(self) -> bool:
        return self.organization is None

    @property
    def is_matched(self) -> bool:
        return self.how in MATCHED

    @property
    def needs_decision(self) -> bool:
        return self.how == SUGGESTED


@dataclass
class _Name:
    organization_id: int
    printed: str
    kind: str  # "name", "other name" or "acronym"

    @property
    def how(self) -> str:
        return {"name": EXACT_NAME, "other name": OTHER_NAME}.get(self.kind, ACRONYM)


@dataclass
class _Index:
    """Names by one form of their key."""

    names: dict[str, list[_Name]] = field(default_factory=lambda: defaultdict(list))

    def add(self, key: str, name: _Name):
        if key and all(n.organization_id != name.organization_id for n in self.names[key]):
            self.names[key].append(name)

    def get(self, key: str) -> list[_Name]:
        return self.names.get(key, []) if key else []


class Matcher:
    """
    Matches pasted lines against every organisation's names. The names are read once, as
    plain values (two queries), and the matched organisations in one more: the cost does not
    grow with the number of lines.
    """

    def __init__(self, organizations=None, *, apart=None):
        organizations = organizations if organizations is not None else Organization.objects.all()
        self.organizations = organizations
        # Pairs of organisation ids staff judged not the same (either order), and printed
        # names judged not to be an organisation: folded name -> ids.
        self.apart: dict[str, set[int]] = apart_names() if apart is None else apart
        self.exact = _Index()  # fold(name)
        self.loose = _Index()  # compact(trimmed(fold(name))): "The", "Inc." and spaces off
        self.acronyms = _Index()  # compact(fold(acronym)), and names that are one word
        self.partial = _Index()  # stored names without a bracket, colon subtitle or "Action"
        self.by_initials = _Index()
        self.word_names = _Index()  # names printed as an acronym is ("DAWN")
        self.loose_names: dict[str, list[_Name]] = defaultdict(list)  # for similar names
        self.names: dict[int, str] = {}
        # The folded forms kept beside the names are read, not computed again (a fold asks
        # ICU of every character: a second or more for 10^5 names); one not yet kept is.
        rows = organizations.order_by("pk").values_list("pk", "name", "name_fold", "acronym")
        for pk, name, key, acronym in rows:
            self.names[pk] = name
            self._add(_Name(pk, name, "name"), key)
            if acronym:
                self._add(_Name(pk, acronym, "acronym"))
        other = OtherName.objects.order_by("pk").values_list(
            "organization_id", "name", "name_fold", "kind"
        )
        if organizations.query.has_filters():
            other = other.filter(organization__in=organizations.values("pk"))
        for org_id, name, key, kind in other:
            if org_id in self.names:
                is_acronym = kind == OtherName.Kind.ACRONYM
                self._add(_Name(org_id, name, "acronym" if is_acronym else "other name"), key)

    def _add(self, name: _Name, key: str = ""):
        key = key or fold(name.printed)
        self.exact.add(key, name)
        if name.kind == "acronym":
            self.acronyms.add(compact(key), name)
            return
        loose = trimmed(key)
        self.loose.add(compact(loose), name)
        if name not in self.loose_names[loose]:
            self.loose_names[loose].append(name)
        if len(loose.split()) == 1:
            self.acronyms.add(compact(loose), name)  # "DAWN", "CODEPINK": names like acronyms
            if _is_acronym_like(name.printed):
                self.word_names.add(compact(loose), name)
        for letters in initials(loose):
            if len(letters) >= 3:
                self.by_initials.add(letters, name)
        printed = _PRINTED.match(name.printed)
        if printed:
            self.partial.add(trimmed(fold(printed["name"])), name)
        if ":" in name.printed:
            self.partial.add(trimmed(fold(name.printed.split(":", 1)[0])), name)
        words = loose.split()
        if len(words) > 1 and words[-1] == "action":
            self.partial.add(" ".join(words[:-1]), name)

    # --- one line ---

    def _find(self, line: PastedLine) -> tuple[str, list[Candidate]]:
        """How `line` matched, and the organisations it matched or may be, best first."""
        texts = list(dict.fromkeys([line.name, line.base_name]))
        for text in texts:
            found = self._matched(text)
            if found:
                return found
        if line.acronym:
            found = self._matched_acronym(line.acronym)
            if found:
                return found
        found = self._matched_with_acronym(line.name)
        if found:
            return found
        suggestions = self._suggested(line, texts)
        if suggestions:
            return SUGGESTED, suggestions
        return NEW, []

    def _matched(self, text: str) -> tuple[str, list[Candidate]] | None:
        key = fold(text)
        tries = [
            (self.exact.get(key), ""),
            (self.loose.get(compact(trimmed(key))), "the same but for “The”, “Inc.” or spacing"),
        ]
        if _is_acronym_like(text):
            tries.append((self.acronyms.get(compact(key)), "the same but for punctuation"))
        for names, why in tries:
            names = self._allowed(text, names)
            if names:
                return self._decided(names, why)
        return None

    def _matched_with_acronym(self, text: str) -> tuple[str, list[Candidate]] | None:
        """A name followed by its acronym without brackets, as OCR prints "Name (AMP)"."""
        words = text.split()
        for size in (1, 2):
            if len(words) < size + 2 or not _is_acronym_like(" ".join(words[-size:])):
                continue
            found = self._matched(" ".join(words[:-size]))
            if found is None or found[0] == SUGGESTED:
                continue
            how, (candidate,) = found
            acronym = compact(fold(" ".join(words[-size:])))
            if any(
                n.organization_id == candidate.organization_id for n in self.acronyms.get(acronym)
            ):
                why = f"followed by its acronym “{' '.join(words[-size:])}”"
                return how, [Candidate(candidate.organization_id, 100, why)]
        return None

    def _matched_acronym(self, acronym: str) -> tuple[str, list[Candidate]] | None:
        names = self._allowed(acronym, self.acronyms.get(compact(fold(acronym))))
        if not names:
            return None
        how, candidates = self._decided(names, "")
        if how == SUGGESTED:
            return how, candidates
        name = names[0]
        what = "acronym" if name.kind == "acronym" else "name"
        why = f"its bracket “{acronym}” is the {what} of {self.names[name.organization_id]}"
        return ACRONYM, [Candidate(name.organization_id, 100, why)]

    def _decided(self, names: list[_Name], why: str) -> tuple[str, list[Candidate]]:
        if len(names) == 1:
            name = names[0]
            if name.kind != "name":
                why = ", ".join(filter(None, [f"{name.kind} “{name.printed}”", why]))
            return name.how, [Candidate(name.organization_id, 100, why)]
        shared = f"“{names[0].printed}” is a name of {len(names)} organisations: " + ", ".join(
            self.names[name.organization_id] for name in names
        )
        return SUGGESTED, [Candidate(name.organization_id, 100, shared) for name in names]

    def _allowed(self, text: str, names: list[_Name]) -> list[_Name]:
        """`names` without the organisations staff judged `text` is not."""
        judged = self.apart.get(fold(text), set())
        return [name for name in names if name.organization_id not in judged]

    def _suggested(self, line: PastedLine, texts: list[str]) -> list[Candidate]:
        found: dict[int, Candidate] = {}

        def suggest(names, score, why):
            for name in self._allowed(line.name, names):
                pk = name.organization_id
                reason = why(name) if callable(why) else why
                if pk not in found or found[pk].score < score:
                    found[pk] = Candidate(pk, score, reason)

        for text in texts:
            key = trimmed(fold(text))
            if ":" in text:
                before = text.split(":", 1)[0]
                suggest(
                    self.exact.get(fold(before)) + self.loose.get(compact(trimmed(fold(before)))),
                    95,
                    lambda name: f"“{name.printed}” is its name before the colon",
                )
            suggest(
                self.partial.get(key),
                92,
                lambda name: f"“{name.printed}” without its bracket, subtitle or “Action”",
            )
            words = key.split()
            if len(words) > 1 and words[-1] == "action":
                without = " ".join(words[:-1])
                suggest(
                    self.exact.get(without) + self.loose.get(compact(without)),
                    90,
                    lambda name, text=text: f"“{text}” is “{name.printed}” with “Action”",
                )
            if _is_acronym_like(text):
                suggest(
                    self.by_initials.get(compact(fold(text))),
                    90,
                    lambda name, text=text: f"“{text}” is the initials of {name.printed}",
                )
            elif len(key.split()) >= 3:
                for letters in initials(key):
                    suggest(
                        self.word_names.get(letters),
                        88,
                        lambda name, letters=letters: (
                            f"its initials are “{name.printed}”, an organisation known by them"
                        ),
                    )
        words = line.name.split()
        if len(words) >= 3:
            suggest(
                self.word_names.get(compact(fold(words[0]))),
                80,
                lambda name: f"it begins with “{name.printed}”",
            )
        if line.bracket and not line.acronym:
            before = line.name[: line.name.rindex("(")]
            for part in (before, line.bracket):
                for candidate in (self._matched(part) or (None, []))[1]:
                    suggest(
                        [_Name(candidate.organization_id, part, "name")],
                        90,
                        lambda name, part=part: f"“{part}” is {self.names[name.organization_id]}",
                    )
        if line.bracket:
            bracket = compact(fold(line.bracket))
            suggest(
                self.acronyms.get(bracket) + self.by_initials.get(bracket),
                88,
                lambda name: f"its bracket “{line.bracket}” is {name.printed}",
            )
        for text in texts:
            for key, score in self._similar(trimmed(fold(text))):
                suggest(
                    self.loose_names[key],
                    score,
                    lambda name, score=score: f"a similar name, “{name.printed}” (score {score})",
                )
        ranked = sorted(found.values(), key=lambda c: (-c.score, self.names[c.organization_id]))
        return ranked

    def _similar(self, key: str) -> list[tuple[str, int]]:
        """Stored names that differ from `key` by misspellings only, with their scores."""
        if not key:
            return []
        found = process.extract(
            key, self.loose_names.keys(), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=5
        )
        return [(other, round(score)) for other, score, _ in found if misspelt(key, other)]

    def names_whole(self, line: PastedLine) -> bool:
        """Whether the line is one organisation's name, other name or acronym, as it is."""
        for text in dict.fromkeys([line.name, line.base_name]):
            found = self._matched(text)
            if found is not None and found[0] != SUGGESTED:
                return True
        return False

    # --- many lines ---

    def match(self, line: PastedLine) -> Match:
        return self.match_all([line])[0]

    def match_all(self, lines: list[PastedLine]) -> list[Match]:
        found = [self._find(line) for line in lines]
        ids = {candidate.organization_id for _, candidates in found for candidate in candidates}
        by_id = self.organizations.model.objects.in_bulk(ids) if ids else {}
        matches = []
        for line, (how, candidates) in zip(lines, found, strict=True):
            candidates = tuple(c for c in candidates if c.organization_id in by_id)
            if not candidates:
                matches.append(Match(line, None, NEW))
                continue
            best = candidates[0]
            matches.append(
                Match(
                    line,
                    by_id[best.organization_id],
                    how,
                    best.score if how == SUGGESTED else None,
                    best.why,
                    candidates if how == SUGGESTED else (),
                )
            )
        return matches


def apart_names() -> dict[str, set[int]]:
    """Folded printed names, each with the organisations staff judged it is not."""
    found: dict[str, set[int]] = defaultdict(set)
    rows = Judgement.objects.filter(
        other__isnull=True, verdict=Judgement.Verdict.APART
    ).values_list("name_fold", "organization_id")
    for key, organization_id in rows:
        found[key].add(organization_id)
    return dict(found)


def misspelt(a: str, b: str) -> bool:
    """
    Whether two folded names differ by misspellings only: word for word, each pair of
    differing words a letter or two apart (two for words of eight letters or more), and no
    word added or missing but the minor ones ("of", "the"). "… in Houston" is not
    "… in Boston": a whole word differs.
    """
    words_a, words_b = a.split(), b.split()
    for op, a1, a2, b1, b2 in SequenceMatcher(None, words_a, words_b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        left, right = words_a[a1:a2], words_b[b1:b2]
        if op in ("insert", "delete"):
            if any(word not in _MINOR for word in left + right):
                return False
            continue
        if compact(" ".join(left)) == compact(" ".join(right)):
            continue  # spaced differently
        if all(word in _MINOR for word in left + right):
            continue  # "of" for "in"
        if len(left) != len(right):
            return False
        for x, y in zip(left, right, strict=True):
            allowed = 2 if min(len(x), len(y)) >= 8 else 1
            if len(x) < 4 or len(y) < 4 or OSA.distance(x, y) > allowed:
                return False
    return True
