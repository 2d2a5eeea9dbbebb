"""
Importing statements, organisations and topics from the seed/import format (see README).

An import is all-or-nothing: every file is read and every record checked and written inside
one transaction, and the first bad record rolls the whole import back with a message naming
the file, the record and the field. Importing the same data twice changes nothing: records
are matched by slug, and each record in a file is the whole truth about that record (its
signatures, other names, contacts, coverage and quotes are made to match the file).
Records that no file mentions are left alone.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from organizations.models import FormerSlug, Organization, OtherName, name_key

from . import partial_dates
from .models import CoverageLink, MediaContact, Quote, Signature, Statement, Topic

SECTIONS = ("topics", "organizations", "statements")
SUFFIXES = (".yaml", ".yml", ".json")


class _Loader(yaml.SafeLoader):
    """
    YAML where every plain value is text (or null): the importer reads each field by its
    type and reports a bad value in context. Plain YAML would turn a phone number 0202 into
    the octal number 130, "No" into false and 2025-13-01 into a crash.
    A key given twice in one mapping is an error, not "the last one wins".
    """

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key “{key}” is given twice", key_node.start_mark
                )
            seen.add(key if isinstance(key, str) else id(key))
        return super().construct_mapping(node, deep)


_NULL = "tag:yaml.org,2002:null"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == _NULL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _json_object(pairs):
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise ValueError(f"the key “{key}” is given twice")
    return dict(pairs)


class ImportDataError(Exception):
    """A file or record that cannot be imported; the message says where and why."""


@dataclass
class ImportReport:
    files: list[str] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(+self.created or +self.updated or +self.deleted)

    def summary(self) -> str:
        lines = [f"Read {len(self.files)} file(s)."]
        for kind in (
            "topic",
            "organisation",
            "statement",
            "signature",
            "other name",
            "media contact",
            "coverage link",
            "quote",
        ):
            counts = (
                self.created[kind],
                self.updated[kind],
                self.deleted[kind],
                self.unchanged[kind],
            )
            if any(counts):
                lines.append(
                    f"  {kind}s: {counts[0]} created, {counts[1]} updated, "
                    f"{counts[2]} removed, {counts[3]} unchanged"
                )
        if not self.changed:
            lines.append("Nothing changed: the database already matches the files.")
        return "\n".join(lines)


@dataclass
class Document:
    """One parsed import file."""

    name: str
    data: dict


# --- Reading files -------------------------------------------------------------------------


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            if not found:
                raise ImportDataError(f"{path}: no .yaml, .yml or .json files in this folder.")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ImportDataError(f"{path}: no such file or folder.")
    return files


def read_document(path: Path) -> Document:
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportDataError(
            f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})."
        ) from None
    except OSError as exc:
        raise ImportDataError(f"{name}: cannot be read ({exc.strerror}).") from exc
    if "\x00" in text:
        raise ImportDataError(f"{name}: contains a NUL byte; this is not a text file.")
    try:
        if path.suffix == ".json":
            data = json.loads(text, object_pairs_hook=_json_object)
        else:
            data = yaml.load(text, Loader=_Loader)
    except json.JSONDecodeError as exc:
        raise ImportDataError(f"{name}: line {exc.lineno}: not valid JSON: {exc.msg}.") from exc
    except ValueError as exc:  # from _json_object
        raise ImportDataError(f"{name}: not valid JSON: {exc}.") from exc
    except RecursionError:
        raise ImportDataError(f"{name}: nested too deeply to be an import file.") from None
    except yaml.YAMLError as exc:
        where = ""
        if getattr(exc, "problem_mark", None) is not None:
            where = f" line {exc.problem_mark.line + 1}:"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ImportDataError(f"{name}:{where} not valid YAML: {problem}.") from exc
    if data is None:
        raise ImportDataError(f"{name}: the file is empty.")
    if not isinstance(data, dict):
        raise ImportDataError(
            f"{name}: the file must be a mapping with any of the keys {', '.join(SECTIONS)}."
        )
    unknown = sorted(str(key) for key in data if key not in SECTIONS)
    if unknown:
        raise ImportDataError(
            f"{name}: unknown top-level key(s) {', '.join(unknown)}; "
            f"expected any of {', '.join(SECTIONS)}."
        )
    for section in SECTIONS:
        if section in data and not isinstance(data[section], list):
            raise ImportDataError(f"{name}: “{section}” must be a list of records.")
    return Document(name=name, data=data)


def import_paths(paths: Iterable[str | Path]) -> ImportReport:
    documents = [read_document(path) for path in find_files(paths)]
    return import_documents(documents=documents)


# --- Records -------------------------------------------------------------------------------


class Record:
    """One mapping in a file: typed access to its keys, and errors that say where."""

    def __init__(self, data, where: str, source: str = ""):
        self.where = where
        self.source = source  # the file the record comes from
        if not isinstance(data, dict):
            raise ImportDataError(f"{where}: expected a mapping of fields, got {_kind(data)}.")
        self.data = data
        self.used: set[str] = set()

    def error(self, key: str | None, message: str) -> ImportDataError:
        return ImportDataError(
            f"{self.where}: {key}: {message}" if key else f"{self.where}: {message}"
        )

    def _get(self, key: str, required: bool):
        self.used.add(key)
        value = self.data.get(key)
        if required and (value is None or value == ""):
            raise self.error(key, "this field is required.")
        return value

    def text(self, key: str, required: bool = False) -> str:
        value = self._get(key, required)
        if value is None:
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # JSON numbers; YAML gives text already
        if not isinstance(value, str):
            raise self.error(key, f"expected text, got {_kind(value)}.")
        return self._clean_text(key, value)

    def _clean_text(self, key: str, value: str) -> str:
        if "\x00" in value:
            raise self.error(key, "contains a NUL byte.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise self.error(key, "contains a character that is not valid Unicode.") from None
        return value.strip()

    def date(self, key: str, required: bool = False) -> datetime.date | None:
        value = self.text(key, required)
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise self.error(key, f"“{value}” is not a date; use YYYY-MM-DD.") from None

    def datetime(self, key: str) -> datetime.datetime | None:
        value = self.text(key)
        if not value:
            return None
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise self.error(key, f"“{value}” is not a date and time (ISO 8601).") from None
        if parsed.tzinfo is None:
            raise self.error(key, "give a time zone, e.g. 2025-11-12T15:00:00+00:00.")
        try:
            in_utc = parsed.astimezone(datetime.UTC)
        except OverflowError:
            in_utc = None
        if in_utc is None or not 1000 <= in_utc.year <= 9998:
            raise self.error(key, f"“{value}” is out of range.")
        return parsed

    def partial_date(self, key: str) -> tuple[datetime.date | None, str]:
        value = self.text(key)
        try:
            return partial_dates.parse(value)
        except ValidationError as exc:
            raise self.error(key, exc.messages[0]) from None

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, False)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {_kind(value)}.")
        return value

    def integer(self, key: str) -> int | None:
        value = self._get(key, False)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise self.error(key, f"expected a whole number, got “{value}”.") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected a whole number, got {_kind(value)}.")
        if not -(2**31) <= value < 2**31:
            raise self.error(key, f"{value} is out of range.")
        return value

    def records(self, key: str) -> list[Record]:
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {_kind(value)}.")
        return [
            Record(item, f"{self.where}: {key}[{index}]", self.source)
            for index, item in enumerate(value)
        ]

    def texts(self, key: str) -> list[str]:
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, "expected a list of slugs.")
        return [self._clean_text(key, item) for item in value]

    def check_no_unknown_keys(self):
        unknown = sorted(str(key) for key in self.data if key not in self.used)
        if unknown:
            raise self.error(None, f"unknown field(s) {', '.join(unknown)}.")


def _kind(value) -> str:
    return {dict: "a mapping", list: "a list", bool: "true/false"}.get(
        type(value), f"“{value}”" if not isinstance(value, dict | list) else "a value"
    )


# --- Writing -------------------------------------------------------------------------------

LABELS = {
    Topic: "topic",
    Organization: "organisation",
    Statement: "statement",
    Signature: "signature",
    OtherName: "other name",
    FormerSlug: "former slug",
    MediaContact: "media contact",
    CoverageLink: "coverage link",
    Quote: "quote",
}


class Writer:
    def __init__(self, report: ImportReport):
        self.report = report
        self.organization_slugs: set[str] = set()  # every organisation the import defines

    @staticmethod
    def reason(record: Record) -> str:
        """What the history of every row an import writes says: the file it came from."""
        return f"Imported from {Path(record.source).name}"[:100]

    def save(self, obj: models.Model, values: dict, record: Record, exclude=()) -> bool:
        """Set `values` on `obj`, validate it, and save it only if something changed."""
        label = LABELS[type(obj)]
        adding = obj._state.adding
        before = {name: getattr(obj, name) for name in values} if not adding else {}
        for name, value in values.items():
            setattr(obj, name, value)
        try:
            # Validation also tidies values (spacing in names) as saving would, so that the
            # comparison below sees what would be stored.
            obj.full_clean(exclude=list(exclude))
        except ValidationError as exc:
            raise _validation_error(record, exc) from None
        if not adding and all(getattr(obj, name) == before[name] for name in values):
            self.report.unchanged[label] += 1
            return False
        obj._change_reason = self.reason(record)
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError as exc:  # a race or a constraint full_clean cannot see
            raise record.error(None, f"rejected by the database: {exc}.") from None
        (self.report.created if adding else self.report.updated)[label] += 1
        return True

    def delete(self, objs: Iterable[models.Model], record: Record):
        """Delete rows the file (`record`, their parent) no longer lists."""
        for obj in objs:
            self.report.deleted[LABELS[type(obj)]] += 1
            obj._change_reason = self.reason(record)
            obj.delete()

    def sync_by_position(
        self, model, parent: Record, existing: list, wanted: list[tuple[Record, dict]], **fixed
    ):
        """Match rows to the file's list in order: update in place, add the extra, drop the rest."""
        saved = []
        for index, (record, values) in enumerate(wanted):
            obj = existing[index] if index < len(existing) else model(**fixed)
            self.save(obj, {**values, "position": index + 1}, record)
            saved.append(obj)
        self.delete(existing[len(wanted) :], parent)
        return saved


def _validation_error(record: Record, exc: ValidationError) -> ImportDataError:
    if hasattr(exc, "error_dict"):
        field_name, messages = next(iter(exc.message_dict.items()))
        key = {"date_precision": "date", "__all__": None}.get(field_name, field_name)
        return record.error(key, " ".join(messages))
    return record.error(None, " ".join(exc.messages))


def import_documents(*, documents: list[Document]) -> ImportReport:
    report = ImportReport(files=[document.name for document in documents])
    writer = Writer(report)
    with transaction.atomic():
        topics = _collect(documents, "topics")
        organizations = _collect(documents, "organizations")
        writer.organization_slugs = set(organizations)
        statements = _collect(documents, "statements")
        for record in topics.values():
            _import_topic(writer, record)
        for record in organizations.values():
            _import_organization(writer, record)
        for record in statements.values():
            _import_statement(writer, record)
    return report


def _collect(documents: list[Document], section: str) -> dict[str, Record]:
    """Every record of one section across all files, keyed by slug; a slug only once."""
    records: dict[str, Record] = {}
    for document in documents:
        for index, item in enumerate(document.data.get(section) or []):
            record = Record(item, f"{document.name}: {section}[{index}]", document.name)
            slug = record.text("slug", required=True)
            record.where = f"{record.where} (slug “{slug}”)"
            if slug in records:
                raise record.error("slug", f"also defined at {records[slug].where}.")
            records[slug] = record
    return records


def _import_topic(writer: Writer, record: Record):
    slug = record.text("slug", required=True)
    values = {
        "name": record.text("name", required=True),
        "description": record.text("description"),
    }
    record.check_no_unknown_keys()
    topic = Topic.objects.filter(slug=slug).first() or Topic(slug=slug)
    writer.save(topic, values, record)


def _import_organization(writer: Writer, record: Record):
    slug = record.text("slug", required=True)
    values = {
        "name": record.text("name", required=True),
        "acronym": record.text("acronym"),
        "kind": record.text("kind"),
        "website": record.text("website"),
        "description": record.text("description"),
        "country": record.text("country"),
        "city": record.text("city"),
        "founded_year": record.integer("founded_year"),
        "notes": record.text("notes"),
    }
    other_names = []
    for item in record.records("other_names"):
        other_names.append(
            (
                item,
                {
                    "name": item.text("name", required=True),
                    "kind": item.text("kind") or OtherName.Kind.VARIANT,
                },
            )
        )
        item.check_no_unknown_keys()
    former_slugs = record.texts("former_slugs")
    record.check_no_unknown_keys()

    organization = Organization.objects.filter(slug=slug).first()
    if organization is None and FormerSlug.objects.filter(slug=slug).exists():
        # Staff merged this organisation into another since the file was written: the
        # merged record stands, and references to the old slug follow it (below).
        writer.report.unchanged[LABELS[Organization]] += 1
        return
    organization = organization or Organization(slug=slug)
    writer.save(organization, values, record)

    # Other names are matched by their key: case and look-alike characters ignored.
    existing = {name.name_key: name for name in organization.other_names.all()}
    seen = set()
    for item, item_values in other_names:
        key = name_key(item_values["name"])
        if key in seen:
            raise item.error("name", f"“{item_values['name']}” is listed twice.")
        seen.add(key)
        other_name = existing.pop(key, None) or OtherName(organization=organization)
        writer.save(other_name, item_values, item)
    writer.delete(existing.values(), record)

    # Former slugs (addresses of organisations merged into this one) are only ever added: a
    # file that leaves them out, like the seeds, keeps the redirects staff made by merging.
    for former in former_slugs:
        if former in writer.organization_slugs:
            # Else, whichever came first in the files, one record would swallow the other.
            raise record.error(
                "former_slugs", f"“{former}” is also an organisation of this import."
            )
        current = FormerSlug.objects.filter(slug=former).select_related("organization").first()
        if current is None:
            writer.save(FormerSlug(organization=organization), {"slug": former}, record)
        elif current.organization_id != organization.pk:
            raise record.error(
                "former_slugs",
                f"“{former}” already redirects to “{current.organization.slug}”.",
            )


def _organization(record: Record, key: str, required: bool) -> Organization | None:
    slug = record.text(key, required=required)
    if not slug:
        return None
    organization = (
        Organization.objects.filter(slug=slug).first()
        or Organization.objects.filter(former_slugs__slug=slug).first()
    )
    if organization is None:
        raise record.error(
            key, f"no organisation with slug “{slug}”; define it under “organizations”."
        )
    return organization


def _import_statement(writer: Writer, record: Record):
    slug = record.text("slug", required=True)
    values = {
        "title": record.text("title", required=True),
        "kind": record.text("kind") or Statement.Kind.JOINT_STATEMENT,
        "status": record.text("status") or Statement.Status.DRAFT,
        "issued_on": record.date("issued_on", required=True),
        "place": record.text("place"),
        "summary": record.text("summary"),
        "full_text": record.text("full_text"),
        "ask": record.text("ask"),
        "source_url": record.text("source_url"),
        "published_at": record.datetime("published_at"),
        "retraction_note": record.text("retraction_note"),
        "notes": record.text("notes"),
    }
    topic_slugs = record.texts("topics")
    topics = {topic.slug: topic for topic in Topic.objects.filter(slug__in=topic_slugs)}
    for topic_slug in topic_slugs:
        if topic_slug not in topics:
            raise record.error(
                "topics", f"no topic with slug “{topic_slug}”; define it under “topics”."
            )

    signatures = []
    for item in record.records("signatures"):
        signatures.append(
            (
                item,
                {
                    "organization": _organization(item, "organization", required=True),
                    "role": item.text("role") or Signature.Role.SIGNATORY,
                    "name_as_printed": item.text("name_as_printed"),
                    "joined_on": item.date("joined_on"),
                    "withdrawn_on": item.date("withdrawn_on"),
                    "withdrawal_reason": item.text("withdrawal_reason"),
                },
            )
        )
        item.check_no_unknown_keys()

    contacts = []
    for item in record.records("media_contacts"):
        contacts.append(
            (
                item,
                {
                    "organization": _organization(item, "organization", required=False),
                    "name": item.text("name"),
                    "email": item.text("email"),
                    "phone": item.text("phone"),
                    "is_public": item.boolean("is_public", default=True),
                },
            )
        )
        item.check_no_unknown_keys()

    coverage = []
    refs: dict[str, int] = {}
    for index, item in enumerate(record.records("coverage")):
        ref = item.text("ref")
        if ref:
            if ref in refs:
                raise item.error("ref", f"“{ref}” is used by another coverage item.")
            refs[ref] = index
        date, precision = item.partial_date("date")
        coverage.append(
            (
                item,
                {
                    "outlet": item.text("outlet", required=True),
                    "headline": item.text("headline"),
                    "url": item.text("url"),
                    "date": date,
                    "date_precision": precision,
                    "kind": item.text("kind") or CoverageLink.Kind.NEWS,
                    "first_reported": item.boolean("first_reported", default=False),
                    "notes": item.text("notes"),
                },
            )
        )
        item.check_no_unknown_keys()

    quotes = []
    for item in record.records("quotes"):
        source = item.text("source")
        if source and source not in refs:
            raise item.error("source", f"no coverage item of this statement has ref “{source}”.")
        quotes.append(
            (
                item,
                {
                    "speaker": item.text("speaker", required=True),
                    "speaker_title": item.text("speaker_title"),
                    "organization": _organization(item, "organization", required=False),
                    "text": item.text("text", required=True),
                },
                source,
            )
        )
        item.check_no_unknown_keys()
    record.check_no_unknown_keys()

    statement = Statement.objects.filter(slug=slug).first() or Statement(slug=slug)
    adding = statement._state.adding
    changed = writer.save(statement, values, record, exclude=["topics", "document"])
    if {topic.pk for topic in statement.topics.all()} != {t.pk for t in topics.values()}:
        statement.topics.set(topics.values())
        if not adding and not changed:
            writer.report.unchanged["statement"] -= 1
            writer.report.updated["statement"] += 1

    _sync_signatures(writer, record, statement, signatures)
    writer.sync_by_position(
        MediaContact, record, list(statement.media_contacts.all()), contacts, statement=statement
    )
    # The database allows one first-reported item per statement; when the file moves the
    # flag to another item, clear it first so the items can be saved in any order.
    wanted_first = [i for i, (_, values) in enumerate(coverage) if values["first_reported"]]
    existing_coverage = list(statement.coverage.all())
    had_first = [i for i, link in enumerate(existing_coverage) if link.first_reported]
    if had_first and had_first != wanted_first:
        statement.coverage.filter(first_reported=True).update(first_reported=False)
        existing_coverage = list(statement.coverage.all())
    saved_coverage = writer.sync_by_position(
        CoverageLink, record, existing_coverage, coverage, statement=statement
    )
    by_ref = {ref: saved_coverage[index] for ref, index in refs.items()}
    writer.sync_by_position(
        Quote,
        record,
        list(statement.quotes.all()),
        [(item, {**values, "source": by_ref.get(source)}) for item, values, source in quotes],
        statement=statement,
    )


def _sync_signatures(
    writer: Writer, record: Record, statement: Statement, wanted: list[tuple[Record, dict]]
):
    existing = {sig.organization_id: sig for sig in statement.signatures.all()}
    seen: dict[int, Record] = {}
    for position, (item, values) in enumerate(wanted, start=1):
        organization = values["organization"]
        if organization.pk in seen:
            raise item.error(
                "organization",
                f"“{organization.slug}” already signed this statement "
                f"at {seen[organization.pk].where}.",
            )
        seen[organization.pk] = item
        values = {**values, "position": position}
        if values["joined_on"] is None:
            values["joined_on"] = statement.issued_on
        signature = existing.pop(organization.pk, None) or Signature(statement=statement)
        writer.save(signature, values, item)
    writer.delete(existing.values(), record)
