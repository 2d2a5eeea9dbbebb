"""
Reading a press release as staff paste it (text copied from a PDF or a web page, OCR noise
and all) into what a draft statement needs: its title, date and place, the ask if it is
plain, the lead sponsors ("Led by …"), the signatory list, the media contact's email and
phone, and quotes with their speakers. Each thing found keeps the lines it came from, for
staff to check against: nothing is guessed beyond what the text says, and what is not found
is left blank.
"""

import datetime
import re
from dataclasses import dataclass, field

from organizations.matching import Matcher, parse_pasted_list
from organizations.models import Organization

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE = re.compile(rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}}),\s*(?P<year>\d{{4}})\b", re.I)
_DASH = r"\s*[-\u2013\u2014]\s*"
# "Washington, D.C. - November 12, 2025" and "November 12, 2025, Washington D.C.- We…"
PLACE_THEN_DATE = re.compile(rf"^(?P<place>[A-Z][\w.,' ]{{1,60}}?){_DASH}{DATE.pattern}", re.I)
DATE_THEN_PLACE = re.compile(
    rf"^{DATE.pattern},\s*(?P<place>[A-Z][\w.,' ]{{1,60}}?)\s*[-\u2013\u2014]"
)
# "WASHINGTON, DC - A New Policy…": a dateline in capitals, without a date.
CAPITAL_DATELINE = re.compile(rf"^(?P<place>[A-Z][A-Z.,' ]{{2,40}}?){_DASH}\S")
TITLE_START = re.compile(
    r"^(?:joint\s+|coalition\s+|open\s+|sign-?on\s+)?(?:statement|letter)\b", re.I
)
LED_BY = re.compile(r"^\s*(?:co-?)?led\s+by\s+(?P<names>.+?)\s*$", re.I)
LIST_HEADING = re.compile(
    r"^\s*(?:additional\s+)?(?:signatories|signers|signed|co-?signers|endorsed\s+by|"
    r"undersigned|signing\s+organi[sz]ations)\b[^.]{0,40}:?\s*$",
    re.I,
)
LIST_END = re.compile(r"^\s*(?:#{2,}|h{1,2}#+|-\s*30\s*-|end)\s*$", re.I)
INLINE_LIST = re.compile(
    r"(?:joining\s+(?P<leads>.+?)\s+in\s+the\s+statement\s+are|signatories\s+include|"
    r"signed\s+by)\s*:\s*(?P<names>.+?)\.\s*$",
    re.I,
)
MEDIA = re.compile(r"^\s*(?:media|press)\s+contacts?\b", re.I)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?:\+1[\s.-]?)?\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b")
ASK = re.compile(
    r"(?:^|(?<=[.!?]\s))(?:[A-Z][^.!?]{0,40}?,\s*)?we\s+(?:urge|call\s+on)\b[^.!?]*[.!?]", re.I
)
QUOTE = re.compile(
    r"[\u201c\"](?P<text>[^\u201c\u201d\"]{20,}?)[\u201d\"],?\s+"
    r"(?:(?P<verb>said|stated|says|added)\s+(?P<who>[^.\u201c\u201d\"]{3,120}?)\.|"
    r"(?P<who2>[^.\u201c\u201d\"]{3,80}?)\s+(?:said|stated|says|added)\.)"
)
# A speaker's name: two capitalised words, perhaps with an initial between.
_NAME = re.compile(r"(?P<name>[A-Z][\w'\u2019-]+(?:\s+[A-Z]\.)?\s+[A-Z][\w'\u2019-]+)$")


@dataclass
class Found:
    """What was read, and the lines (numbered from 1) it was read from."""

    value: object
    lines: list[int]
    source: str

    @property
    def shown(self) -> str:
        return self.source if len(self.source) <= 300 else self.source[:299] + "…"


@dataclass
class Quote:
    text: str
    speaker: str
    speaker_title: str


@dataclass
class Release:
    title: Found | None = None
    issued_on: Found | None = None
    place: Found | None = None
    ask: Found | None = None
    leads: list[Found] = field(default_factory=list)  # each: a name as printed
    signatories: list[Found] = field(default_factory=list)
    email: Found | None = None
    phone: Found | None = None
    quotes: list[Found] = field(default_factory=list)  # each: a Quote


def read_release(text: str, organizations=None) -> Release:
    """Everything `text` plainly says a draft needs; `organizations` helps split lists."""
    lines = text.splitlines()
    numbered = [(number, line.strip()) for number, line in enumerate(lines, start=1)]
    release = Release()
    release.issued_on = _date(numbered)
    release.place = _place(numbered)
    release.title = _title(numbered)
    release.email, release.phone = _contact(numbered)
    release.ask = _ask(numbered)
    matcher = Matcher(organizations if organizations is not None else Organization.objects.all())
    release.leads = _leads(numbered, matcher)
    release.signatories = _signatories(numbered, matcher)
    if not release.signatories:
        release.signatories, inline_leads = _inline_list(numbered, matcher)
        release.leads = release.leads or inline_leads
    release.quotes = _quotes(numbered)
    return release


def _date(numbered) -> Found | None:
    for number, line in numbered[:60]:
        found = DATE.search(line)
        if found:
            try:
                value = datetime.date(
                    int(found["year"]), MONTHS[found["month"].lower()], int(found["day"])
                )
            except ValueError:
                continue  # "February 30"
            return Found(value, [number], line)
    return None


def _place(numbered) -> Found | None:
    for pattern in (PLACE_THEN_DATE, DATE_THEN_PLACE, CAPITAL_DATELINE):
        for number, line in numbered[:60]:
            found = pattern.match(line)
            if found and not TITLE_START.match(found["place"]):
                place = found["place"].strip(" ,-")
                if place and place.lower() not in MONTHS:
                    return Found(place, [number], line)
    return None


def _title(numbered) -> Found | None:
    start = next(
        (i for i, (_, line) in enumerate(numbered) if "for immediate release" in line.lower()), 0
    )
    for ordered in (numbered[start:], numbered):
        for index, (number, line) in enumerate(ordered):
            if TITLE_START.match(line) and 20 <= len(line) <= 300 and not line.endswith(":"):
                parts, used = [line], [number]
                # A title printed over two lines: the next line, with no blank between.
                if index + 1 < len(ordered) and not line.endswith((".", ":")):
                    next_number, next_line = ordered[index + 1]
                    if next_line and len(next_line) < 200 and not DATE.search(next_line):
                        parts.append(next_line)
                        used.append(next_number)
                title = " ".join(parts)
                return Found(title, used, "\n".join(parts))
    for number, line in numbered:
        headline = line.strip(" \u2014\u2013-\u2022")
        if len(headline) >= 20:
            return Found(headline, [number], line)
    return None


def _contact(numbered) -> tuple[Found | None, Found | None]:
    at = next((i for i, (_, line) in enumerate(numbered) if MEDIA.match(line)), None)
    window = numbered[at : at + 8] if at is not None else numbered
    email = phone = None
    for number, line in window:
        if email is None and (found := EMAIL.search(line)):
            email = Found(found[0], [number], line)
        if phone is None and (found := PHONE.search(line)):
            phone = Found(found[0], [number], line)
    return email, phone


def _paragraphs(numbered) -> list[tuple[list[tuple[int, int]], str]]:
    """
    The lines joined into paragraphs (a blank line ends one), each with where its lines
    start in it: (line number, offset).
    """
    paragraphs, starts, text = [], [], ""
    for number, line in [*numbered, (0, "")]:
        if line:
            text = f"{text} {line}" if text else line
            starts.append((number, len(text) - len(line)))
        elif text:
            paragraphs.append((starts, text))
            starts, text = [], ""
    return paragraphs


def _ask(numbered) -> Found | None:
    for starts, paragraph in _paragraphs(numbered):
        found = ASK.search(paragraph)
        if found:
            # The lines the sentence spans, and only those.
            used = [
                number
                for index, (number, offset) in enumerate(starts)
                if offset < found.end()
                and (index + 1 == len(starts) or starts[index + 1][1] > found.start())
            ]
            value = " ".join(found[0].split())
            return Found(value, used, "\n".join(line for n, line in numbered if n in used))
    return None


def _split_names(text: str, matcher: Matcher) -> list[str]:
    """
    Names joined by commas and "and", as prose prints them: each split taken where the
    pieces are organisations the matcher knows whole, so that "Women's International League
    for Peace and Freedom, US Section" stays one name.
    """
    pieces = [p for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", text.strip().rstrip(".")) if p]
    names, index = [], 0
    while index < len(pieces):
        for size in range(min(4, len(pieces) - index), 0, -1):
            joined = _rejoin(text, pieces[index : index + size])
            if joined is not None and size > 1 and _known(joined, matcher):
                names.append(joined)
                index += size
                break
        else:
            names.append(pieces[index].strip())
            index += 1
    return [name for name in names if any(ch.isalpha() for ch in name)]


def _rejoin(text: str, pieces: list[str]) -> str | None:
    """The stretch of `text` the pieces came from, separators and all."""
    separator = r"\s*(?:,\s*(?:and\s+)?|\s+and\s+)\s*"
    found = re.search(separator.join(re.escape(piece) for piece in pieces), text)
    return found[0] if found else None


def _known(name: str, matcher: Matcher) -> bool:
    """Whether `name` is an organisation's name whole (not only by a bracketed acronym)."""
    lines = parse_pasted_list(name)
    return len(lines) == 1 and matcher.names_whole(lines[0])


def _leads(numbered, matcher) -> list[Found]:
    for number, line in numbered:
        found = LED_BY.match(line)
        if found:
            return [Found(name, [number], line) for name in _split_names(found["names"], matcher)]
    return []


def _signatories(numbered, matcher) -> list[Found]:
    at = next((i for i, (_, line) in enumerate(numbered) if LIST_HEADING.match(line)), None)
    if at is None:
        return []
    found, blanks = [], 0
    for number, line in numbered[at + 1 :]:
        if not line:
            blanks += 1
            if blanks >= 3 and found:
                break
            continue
        blanks = 0
        if LIST_END.match(line) or (len(line) > 120 and line.endswith(".")):
            break
        for pasted in parse_pasted_list(line):
            found.append(Found(pasted.name, [number], line))
    return found


def _inline_list(numbered, matcher) -> tuple[list[Found], list[Found]]:
    for number, line in numbered:
        found = INLINE_LIST.search(line)
        if found:
            source = found[0]
            names = _split_names(found["names"], matcher)
            leads = _split_names(found["leads"], matcher) if found["leads"] else []
            return (
                [Found(name, [number], source) for name in names],
                [Found(name, [number], source) for name in leads],
            )
    return [], []


def _quotes(numbered) -> list[Found]:
    found = []
    for number, line in numbered:
        for match in QUOTE.finditer(line):
            who = (match["who"] or match["who2"] or "").strip()
            speaker, title = _speaker(who)
            if not speaker:
                continue
            text = match["text"].strip().rstrip(",")
            # The quote may go on in a second quoted passage after the attribution.
            rest = line[match.end() :].lstrip()
            more = re.match(r"[\u201c\"](?P<text>[^\u201c\u201d\"]{5,})[\u201d\"]", rest)
            if more:
                text = f"{text.rstrip('.')}. {more['text'].strip()}"
            value = Quote(text=text, speaker=speaker, speaker_title=title)
            found.append(Found(value, [number], match[0] + (more[0] if more else "")))
    return found


def _speaker(who: str) -> tuple[str, str]:
    """ "Executive Director of A New Policy, Josh Paul" or "ANCA Executive Director Aram
    Hamparian": the speaker's name, and their title."""
    who = re.sub(r"^(?:by\s+)", "", who.strip(), flags=re.I)
    if "," in who:
        title, name = (part.strip() for part in who.rsplit(",", 1))
        if _NAME.fullmatch(name):
            return name, title
        name, title = (part.strip() for part in who.split(",", 1))
        if _NAME.fullmatch(name):
            return name, title
    found = _NAME.search(who)
    if found is None:
        return "", ""
    return found["name"], who[: found.start()].strip()
