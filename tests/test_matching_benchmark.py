"""
The matching benchmark: a labelled file of printed names (tests/data/matching/labelled.csv),
each with the organisation a careful editor would choose, or "new", matched against the
seeded organisations and the benchmark's own directory of near misses.

Target: no false match at all (a line matched, with no decision asked, to an organisation it
is not), and at least 95% of the lines that name a known organisation found, as a match or
as the first suggestion. The figures are printed with the test's output.
"""

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from organizations.matching import Matcher, parse_pasted_list
from organizations.models import Organization, OtherName

DATA = Path(__file__).parent / "data" / "matching"
RECALL_TARGET = 0.95


def labelled() -> list[dict]:
    with (DATA / "labelled.csv").open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def load_directory():
    entries = yaml.safe_load((DATA / "directory.yaml").read_text(encoding="utf-8"))
    for entry in entries["organizations"]:
        org = Organization.objects.create(
            slug=entry["slug"], name=entry["name"], acronym=entry.get("acronym", "")
        )
        if entry.get("acronym"):
            OtherName.objects.create(
                organization=org, name=entry["acronym"], kind=OtherName.Kind.ACRONYM
            )
        for name in entry.get("other_names", []):
            OtherName.objects.create(organization=org, name=name)


def outcome(expected: str, match) -> str:
    """found, suggested, missed, false match, wrong suggestion or right new."""
    slug = match.organization.slug if match.organization else None
    if match.is_matched:
        return "found" if slug == expected else "false match"
    if match.needs_decision:
        return "suggested" if slug == expected else "wrong suggestion"
    return "right new" if expected == "new" else "missed"


def score(rows: list[dict]) -> dict:
    lines = []
    for row in rows:
        (line,) = parse_pasted_list(row["printed"])
        lines.append(line)
    matches = Matcher().match_all(lines)
    results = [
        (row, match, outcome(row["expected"], match))
        for row, match in zip(rows, matches, strict=True)
    ]
    counts = Counter(result for _, _, result in results)
    known = sum(1 for row in rows if row["expected"] != "new")
    matched = counts["found"] + counts["false match"]
    by_kind = defaultdict(Counter)
    for row, _, result in results:
        by_kind[row["kind"]][result] += 1
    return {
        "results": results,
        "counts": counts,
        "known": known,
        "new": len(rows) - known,
        "precision": counts["found"] / matched if matched else 1.0,
        "recall": (counts["found"] + counts["suggested"]) / known,
        "by_kind": by_kind,
    }


def report(figures: dict) -> str:
    counts = figures["counts"]
    out = [
        f"Matching benchmark: {len(figures['results'])} printed names, "
        f"{figures['known']} of known organisations, {figures['new']} new.",
        f"  matched, no decision asked: {counts['found']} right, "
        f"{counts['false match']} false (precision {figures['precision']:.1%})",
        f"  suggested first: {counts['suggested']} right, {counts['wrong suggestion']} wrong",
        f"  found (matched or suggested): {figures['recall']:.1%} of known "
        f"(target {RECALL_TARGET:.0%}); missed {counts['missed']}",
        f"  new kept new: {counts['right new']} of {figures['new']}",
    ]
    for row, match, result in figures["results"]:
        if result in ("false match", "missed", "wrong suggestion"):
            got = match.organization.slug if match.organization else "new"
            out.append(f"  {result}: {row['printed']!r} -> {got} ({match.how}; {match.why})")
    return "\n".join(out)


@pytest.fixture
def directory(seeded):
    load_directory()


def test_the_labelled_file_is_large_and_names_only_known_organisations(directory):
    rows = labelled()
    assert len(rows) >= 200
    slugs = set(Organization.objects.values_list("slug", flat=True))
    unknown = {row["expected"] for row in rows} - slugs - {"new"}
    assert not unknown
    assert sum(row["expected"] == "new" for row in rows) >= 40


def test_no_false_match_and_95_percent_found(directory, capsys):
    figures = score(labelled())
    with capsys.disabled():
        print("\n" + report(figures))
    false = [
        (row["printed"], match.organization.slug)
        for row, match, result in figures["results"]
        if result == "false match"
    ]
    assert false == []
    assert figures["recall"] >= RECALL_TARGET, report(figures)
