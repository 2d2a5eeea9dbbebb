"""
The portable export: every topic, organisation and statement in the import format
(statements.importing), so that `import_statements` reads it back into any database.

Exporting, importing the file into an empty database and exporting again gives the same file
byte for byte (tests/test_export.py). Blank values are left out, as the importer reads a
missing key as blank. Records come in slug order, sorted in Python whatever the database's
collation, and a statement's parts in their page order: the same records give the same file.

It keeps what a backup must give back: when each organisation and statement was created and
last changed (which the sitemap and feeds publish), and each signature's and other part's
place in its list, gaps included. Ordinary import files leave those out. Other names and
former slugs known only from a draft (merged from a record known only from drafts) name that
draft, and stay staff-only (or do not redirect) after the import until it is published.

What it does not hold: uploaded documents (files, kept in DJANGO_MEDIA_ROOT), staff accounts
and tokens, edit history, and derived tables (counts and co-signing, rebuilt on import). A
pg_dump backup holds all of those (README, “Backups”).
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import yaml
from django.db import connection, transaction
from django.db.models import Prefetch

from organizations.models import FormerSlug, Organization, OtherName

from . import partial_dates
from .models import CoverageLink, MediaContact, Quote, Signature, Statement, Topic

HEADER = (
    "# Exported from the coalition statement tracker; read it back with\n"
    "#   manage.py import_statements <this file>\n"
)


def _compact(values: dict) -> dict:
    """Drop blank values (the importer reads a missing key as blank)."""
    return {key: value for key, value in values.items() if value not in ("", None, [])}


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: datetime.datetime | None) -> str | None:
    return value.astimezone(datetime.UTC).isoformat() if value else None


def _stamps(record) -> dict:
    """When the record was created and last changed, for the import to restore."""
    return {"created_at": _time(record.created_at), "updated_at": _time(record.updated_at)}


def _placed(rows: list) -> list[tuple[dict, object]]:
    """
    Each of a statement's parts (in page order) with its `position` when that is not its place
    in the list, as after a part was removed from the middle: the import restores it.
    """
    return [
        ({"position": row.position} if row.position != index else {}, row)
        for index, row in enumerate(rows, start=1)
    ]


def export_data() -> dict:
    """Every record, as the mapping an import file holds, read from one snapshot."""
    if connection.in_atomic_block:  # the caller's transaction decides what is seen
        return _export_data()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Every query below sees the same moment, however staff edit meanwhile.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _export_data()


def _export_data() -> dict:
    topics = [
        _compact({"slug": t.slug, "name": t.name, "description": t.description})
        for t in Topic.objects.all()
    ]
    organizations = [
        _compact(
            {
                "slug": org.slug,
                "name": org.name,
                "acronym": org.acronym,
                "kind": org.kind,
                "website": org.website,
                "description": org.description,
                "country": org.country,
                "city": org.city,
                "founded_year": org.founded_year,
                "notes": org.notes,
                "other_names": sorted(
                    (_other_name(other) for other in org.other_names.all()),
                    key=lambda other: (other["name"], other["kind"]),
                ),
                "former_slugs": [
                    _former_slug(former)
                    for former in sorted(org.former_slugs.all(), key=lambda f: f.slug)
                ],
                **_stamps(org),
            }
        )
        for org in Organization.objects.prefetch_related(
            Prefetch(
                "other_names",
                queryset=OtherName.objects.select_related("withholding__statement"),
            ),
            Prefetch(
                "former_slugs",
                queryset=FormerSlug.objects.select_related("withholding__statement"),
            ),
        )
    ]
    statements = [
        _statement(statement)
        for statement in Statement.objects.prefetch_related(
            "topics",
            Prefetch(
                "signatures",
                queryset=Signature.objects.order_by("position", "id").select_related(
                    "organization"
                ),
            ),
            Prefetch(
                "media_contacts",
                queryset=MediaContact.objects.order_by("position", "id").select_related(
                    "organization"
                ),
            ),
            Prefetch("coverage", queryset=CoverageLink.objects.order_by("position", "id")),
            Prefetch(
                "quotes",
                queryset=Quote.objects.order_by("position", "id").select_related("organization"),
            ),
        )
    ]
    # Sorted here, not by the database, whose collation may order text differently (SQLite
    # and PostgreSQL do): the same records give the same file from any database.
    return {
        section: sorted(records, key=lambda record: record["slug"])
        for section, records in (
            ("topics", topics),
            ("organizations", organizations),
            ("statements", statements),
        )
    }


def _withheld_until(row: OtherName | FormerSlug) -> str | None:
    """The slug of the draft an other name or former slug is known only from (Withholding)."""
    held = getattr(row, "withholding", None)
    return held.statement.slug if held is not None else None


def _other_name(other: OtherName) -> dict:
    """
    An other name; one known only from a draft names it (`withheld_until`), so that the name
    stays off public pages in the database the export is imported into, as it does here.
    """
    draft = _withheld_until(other)
    withheld = {"withheld_until": draft} if draft else {}
    return {"name": other.name, "kind": other.kind, **withheld}


def _former_slug(former: FormerSlug) -> str | dict:
    """A former slug; one withheld until a draft is published names that draft, as names do."""
    draft = _withheld_until(former)
    if draft is None:
        return former.slug
    return {"slug": former.slug, "withheld_until": draft}


def _statement(statement: Statement) -> dict:
    coverage = list(statement.coverage.all())
    quotes = list(statement.quotes.all())
    # Quotes name the coverage item they come from by a ref local to the statement.
    cited = {quote.source_id for quote in quotes if quote.source_id}
    refs = {
        link.pk: f"coverage-{index}"
        for index, link in enumerate(coverage, start=1)
        if link.pk in cited
    }
    return _compact(
        {
            "slug": statement.slug,
            "title": statement.title,
            "kind": statement.kind,
            "status": statement.status,
            "issued_on": _date(statement.issued_on),
            "place": statement.place,
            "summary": statement.summary,
            "full_text": statement.full_text,
            "ask": statement.ask,
            "source_url": statement.source_url,
            "published_at": statement.published_at.isoformat() if statement.published_at else None,
            "retraction_note": statement.retraction_note,
            "notes": statement.notes,
            "topics": sorted(topic.slug for topic in statement.topics.all()),
            "signatures": [
                _compact(
                    {
                        "organization": sig.organization.slug,
                        "role": sig.role,
                        "name_as_printed": sig.name_as_printed,
                        "joined_on": _date(sig.joined_on),
                        "withdrawn_on": _date(sig.withdrawn_on),
                        "withdrawal_reason": sig.withdrawal_reason,
                        **place,
                    }
                )
                for place, sig in _placed(list(statement.signatures.all()))
            ],
            "media_contacts": [
                {
                    **_compact(
                        {
                            "organization": contact.organization.slug
                            if contact.organization
                            else None,
                            "name": contact.name,
                            "email": contact.email,
                            "phone": contact.phone,
                        }
                    ),
                    "is_public": contact.is_public,
                    **place,
                }
                for place, contact in _placed(list(statement.media_contacts.all()))
            ],
            "coverage": [
                {
                    **_compact(
                        {
                            "ref": refs.get(link.pk),
                            "outlet": link.outlet,
                            "headline": link.headline,
                            "url": link.url,
                            "date": partial_dates.to_text(link.date, link.date_precision),
                            "kind": link.kind,
                        }
                    ),
                    "first_reported": link.first_reported,
                    **_compact({"notes": link.notes}),
                    **place,
                }
                for place, link in _placed(coverage)
            ],
            "quotes": [
                _compact(
                    {
                        "speaker": quote.speaker,
                        "speaker_title": quote.speaker_title,
                        "organization": quote.organization.slug if quote.organization else None,
                        "source": refs.get(quote.source_id),
                        "text": quote.text,
                        **place,
                    }
                )
                for place, quote in _placed(quotes)
            ],
            **_stamps(statement),
        }
    )


class _Dumper(yaml.SafeDumper):
    """Long texts as readable blocks; everything else as PyYAML writes it."""


def _text(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dumps(data: dict, fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return HEADER + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def write(path: Path | str) -> dict:
    """Write the export to `path` (.json for JSON, else YAML); the counts written."""
    path = Path(path)
    data = export_data()
    fmt = "json" if path.suffix == ".json" else "yaml"
    text = dumps(data, fmt)
    temporary = path.with_name(path.name + ".partial")
    # Drafts, staff notes and private contacts are in it: readable by its owner only.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        temporary.replace(path)  # never a half-written export under the real name
    finally:
        temporary.unlink(missing_ok=True)
    return {section: len(records) for section, records in data.items()}
