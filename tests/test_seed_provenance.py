"""
The seed data invents nothing: every outlet, URL, date and printed name or text in seeds/ is
printed in one of the case's source documents.

The documents are committed byte for byte in seeds/sources/ (a fresh clone has no shared
folder beside it); where the shared folder is there, the copy must still equal it.
"""

import calendar
import datetime
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SOURCES = SEEDS / "sources"

# How each key of the seed files is checked. A key not listed here fails the test, so a new
# field cannot slip into seeds/ unchecked.
OUTLET_KEYS = {"outlet"}
URL_KEYS = {"url", "source_url", "website"}
DATE_KEYS = {"issued_on", "joined_on", "withdrawn_on", "date", "published_at", "founded_year"}
# Printed as a whole (names, titles, contacts) or, for prose, sentence by sentence.
PRINTED_KEYS = {
    "title", "name", "acronym", "name_as_printed", "place", "city", "country", "headline",
    "speaker", "speaker_title", "email", "phone",
}  # fmt: skip
PROSE_KEYS = {"summary", "ask", "full_text", "description", "text", "withdrawal_reason",
              "retraction_note"}  # fmt: skip
# Identifiers, references, classifications and staff notes: not facts a document prints.
NOT_PRINTED_KEYS = {
    "slug", "former_slugs", "kind", "role", "status", "organization", "topics", "ref",
    "source", "first_reported", "is_public", "notes",
}  # fmt: skip
CONTAINERS = {"organizations", "statements", "other_names", "signatures", "media_contacts",
              "coverage", "quotes"}  # fmt: skip

MONTHS = {name: number for number, name in enumerate(calendar.month_name) if name}
MONTHS |= {name: number for number, name in enumerate(calendar.month_abbr) if name}
MONTHS["Sept"] = 9
MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
YEAR = r"(?P<year>(?:1[89]|20)\d\d)"
DATE_FORMS = [
    re.compile(rf"\b{MONTH}\s+{DAY}\b(?:,?\s+{YEAR}\b)?"),  # November 12, 2025 / Nov. 12
    re.compile(rf"\b{DAY}\s+{MONTH},?\s+{YEAR}\b"),  # 12 Nov 2025
    re.compile(rf"\b{MONTH},?\s+{YEAR}\b"),  # November 2025
    re.compile(rf"\b{YEAR}-(?P<month>[01]\d)(?:-(?P<day>[0-3]\d))?(?!\d)"),  # 2025-11-12
    re.compile(r"\b(?P<month>[01]?\d)/(?P<day>[0-3]?\d)/(?P<year>\d\d(?:\d\d)?)\b"),  # 11/12/25
]


# Curly quotes and apostrophes, en and em dashes, no-break space.
TYPOGRAPHIC = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
     "\xa0": " "}
)  # fmt: skip


def normalise(text: str) -> str:
    """Typographic variants and line breaks (as PDF text has them) compare equal."""
    text = text.translate(TYPOGRAPHIC)
    text = re.sub(r"(?<=\w)-\n\s*", "-", text)  # a hyphenated word broken over two lines
    return re.sub(r"\s+", " ", text).strip()


class Sources:
    """What a set of documents prints: their text, and the dates and years in it."""

    def __init__(self, texts: list[str]):
        self.text = "\n".join(normalise(text) for text in texts)
        self.days, self.months, self.years = set(), set(), set()
        for text in texts:
            years = {int(year) for year in re.findall(rf"\b{YEAR}\b", text)}
            self.years |= years
            for found in (m.groupdict() for form in DATE_FORMS for m in form.finditer(text)):
                month = found["month"]
                month = MONTHS[month] if month in MONTHS else int(month)
                year = found.get("year")
                year = None if year is None else int(year) + (2000 if len(year) == 2 else 0)
                day = found.get("day") and int(found["day"])
                # A day printed without its year ("Nov. 12") is read in the document's years.
                for y in [year] if year else years:
                    if day:
                        self.days.add((y, month, day))
                    self.months.add((y, month))
                    self.years.add(y)

    def prints(self, text: str) -> bool:
        return re.search(rf"(?<!\w){re.escape(normalise(text))}(?!\w)", self.text) is not None

    def prints_date(self, value) -> bool:
        text = str(value)
        if re.fullmatch(r"\d{4}", text):
            return int(text) in self.years
        if re.fullmatch(r"\d{4}-\d\d", text):
            year, month = map(int, text.split("-"))
            return (year, month) in self.months
        day = datetime.date.fromisoformat(text[:10])
        return (day.year, day.month, day.day) in self.days


def sentences(text: str) -> list[str]:
    """Prose split into sentences, without their closing stop (a quote may be printed in two
    parts around its attribution, and a sentence end inside a quotation mark)."""
    parts = re.split(r"(?<=[.!?])\s+", normalise(text))
    return [part.rstrip(".!?") for part in parts if part.rstrip(".!?")]


def facts(data, where: str):
    """(where, key, value) for every fact in a seed file's data."""
    if isinstance(data, list):
        for index, item in enumerate(data):
            yield from facts(item, f"{where}[{index}]")
    elif isinstance(data, dict):
        for key, value in data.items():
            if key in CONTAINERS:
                yield from facts(value, f"{where}.{key}")
            elif value not in (None, ""):
                yield f"{where}.{key}", key, value


def unprinted(data, where: str, sources: Sources) -> list[str]:
    """Every fact of a seed file's data that no source document prints, and why."""
    problems = []
    for path, key, value in facts(data, where):
        if key in NOT_PRINTED_KEYS:
            continue
        if key in DATE_KEYS:
            if not sources.prints_date(value):
                problems.append(f"{path}: the date {value!r} is printed in no document")
        elif key in OUTLET_KEYS | PRINTED_KEYS | URL_KEYS:
            if not sources.prints(str(value)):
                problems.append(f"{path}: {value!r} is printed in no document")
        elif key in PROSE_KEYS:
            problems += [
                f"{path}: {sentence!r} is printed in no document"
                for sentence in sentences(value)
                if not sources.prints(sentence)
            ]
        else:
            problems.append(f"{path}: the key {key!r} is not known to this check")
        for url in [] if key in URL_KEYS else re.findall(r"(?:https?://|www\.)\S+", str(value)):
            if not sources.prints(url):
                problems.append(f"{path}: the URL {url!r} is printed in no document")
    return problems


def seed_files():
    # The topics are the product's own classification, not facts a document prints.
    return sorted(p for p in SEEDS.rglob("*.yaml") if p.name != "topics.yaml")


@pytest.fixture(scope="module")
def sources():
    return Sources([p.read_text(encoding="utf-8") for p in sorted(SOURCES.glob("*.txt"))])


def test_the_source_documents_are_committed_with_the_seeds():
    assert len(list(SOURCES.glob("*.txt"))) == 5
    assert (SOURCES / "README.md").is_file()


def shared_seeds() -> Path | None:
    """The project's shared folder of source documents, beside this checkout or above it."""
    for parent in REPO.parents:
        if (parent / "shared" / "seeds").is_dir():
            return parent / "shared" / "seeds"
    return None


def test_the_committed_copy_equals_the_shared_source_documents():
    shared = shared_seeds()
    if shared is None:
        pytest.skip("no shared/seeds folder beside this checkout to compare with")
    copy = {p.name: p.read_bytes() for p in SOURCES.glob("*.txt")}
    originals = {p.name: p.read_bytes() for p in shared.iterdir() if p.is_file()}
    assert sorted(copy) == sorted(originals)
    assert [name for name in sorted(copy) if copy[name] != originals[name]] == []


@pytest.mark.parametrize("path", seed_files(), ids=lambda p: str(p.relative_to(SEEDS)))
def test_every_outlet_url_date_and_printed_fact_of_the_seeds_is_in_a_source(path, sources):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert unprinted(data, path.name, sources) == []


def test_the_check_finds_an_invented_outlet_url_date_or_name():
    sources = Sources(["November 12, 2025: in Politico\u2019s National Security Daily"])
    data = {
        "statements": [
            {
                "title": "Invented title",
                "issued_on": "2025-11-13",
                "coverage": [
                    {"outlet": "Politico's National Security Daily", "date": "2025-11"},
                    {"outlet": "Jerusalem Post", "url": "https://example.org/op-ed"},
                ],
            }
        ],
        "organizations": [{"name": "Politico", "website": "https://politico.example"}],
    }
    assert unprinted(data, "x.yaml", sources) == [
        "x.yaml.statements[0].title: 'Invented title' is printed in no document",
        "x.yaml.statements[0].issued_on: the date '2025-11-13' is printed in no document",
        "x.yaml.statements[0].coverage[1].outlet: 'Jerusalem Post' is printed in no document",
        "x.yaml.statements[0].coverage[1].url: 'https://example.org/op-ed' is printed in no "
        "document",
        # "Politico" is printed (as part of a longer name); its website is not.
        "x.yaml.organizations[0].website: 'https://politico.example' is printed in no document",
    ]


@pytest.mark.parametrize(
    "printed, seed_date",
    [
        ("Washington, D.C. - November 12, 2025", "2025-11-12"),
        ("Nov 4, 2025: 2025 Multi-Faith Global Letter", "2025-11-04"),
        ("published 12 Nov 2025", "2025-11-12"),
        ("11/12/25,10:54 AM", "2025-11-12"),
        ("In 2025 ... on Nov. 12 it said", "2025-11-12"),
        ("in March 2023", "2023-03"),
        ("on October 7, 2023", "2023-10"),
        ("Formed in 1984", "1984"),
        ("2025-11-12T10:00:00Z", "2025-11-12T10:00:00+00:00"),
    ],
)
def test_a_date_counts_as_printed_in_the_forms_documents_use(printed, seed_date):
    assert Sources([printed]).prints_date(seed_date)


@pytest.mark.parametrize(
    "printed, seed_date",
    [
        ("November 12, 2025", "2025-11-13"),
        ("November 2025", "2025-11-12"),  # a month printed does not give its day
        ("Nov. 12", "2025-11-12"),  # a day without any year in the document
        ("last November", "2025-11"),
        ("in 2024", "2025"),
    ],
)
def test_a_date_not_printed_is_not_found(printed, seed_date):
    assert not Sources([printed]).prints_date(seed_date)
