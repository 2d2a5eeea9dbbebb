"""
Importing statements, organisations and topics from the seed/import format (see README).

An import is all-or-nothing: every file is read and every record checked and written inside
one transaction, and the first bad record rolls the whole import back with a message naming
the file, the record and the field. Importing the same data twice changes nothing: records
are matched by slug. A re-import writes what changed in the files, but keeps what was changed
in the database since the last import (see "Writing" below) and reports it; `replace` makes
each record match its file exactly (its signatures, other names, contacts, coverage and
quotes too). `dry_run` rolls everything back and reports what would have been done.
Records that no file mentions are left alone.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from organizations.models import FormerSlug, Organization, OtherName, name_key

from . import derived, partial_dates
from .models import (
    CoverageLink,
    ImportedRecord,
    MediaContact,
    Quote,
    Signature,
    Statement,
    Topic,
)
from .withholding import withhold

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


KINDS = (
    "topic",
    "organisation",
    "statement",
    "signature",
    "other name",
    "former slug",
    "media contact",
    "coverage link",
    "quote",
)


@dataclass
class ImportReport:
    files: list[str] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)
    # Rows where a change made in the database since the last import was kept.
    kept: Counter = field(default_factory=Counter)
    kept_details: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # every create, change and removal
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(+self.created or +self.updated or +self.deleted)

    def summary(self) -> str:
        lines = [f"Read {len(self.files)} file(s)."]
        if self.dry_run:
            lines.append(
                "Dry run: nothing was written. The import would make these changes:"
                if self.actions
                else "Dry run: nothing was written, and the import would change nothing."
            )
            lines.extend(f"  {action}" for action in self.actions)
        for kind in KINDS:
            counts = (
                self.created[kind],
                self.updated[kind],
                self.deleted[kind],
                self.unchanged[kind],
                self.kept[kind],
            )
            if any(counts):
                line = (
                    f"  {kind}s: {counts[0]} created, {counts[1]} updated, "
                    f"{counts[2]} removed, {counts[3]} unchanged"
                )
                if counts[4]:
                    line += f", {counts[4]} kept as changed in the database"
                lines.append(line)
        if self.kept_details:
            lines.append(
                f"Kept {len(self.kept_details)} change(s) made in the database since the last "
                "import (import with --replace to make the records match the files):"
            )
            lines.extend(f"  {detail}" for detail in self.kept_details)
        if not self.changed:
            lines.append(
                "Nothing changed: the database already matches the files"
                + (", apart from the changes kept above." if self.kept_details else ".")
            )
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


def import_paths(
    paths: Iterable[str | Path], *, replace: bool = False, dry_run: bool = False
) -> ImportReport:
    documents = [read_document(path) for path in find_files(paths)]
    return import_documents(documents=documents, replace=replace, dry_run=dry_run)


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
#
# Every row an import writes gets a fingerprint (ImportedRecord): the file's values for it at
# that import. The next import compares the row with them, field by field:
#   - the row still has the fingerprint's value: nobody changed it since, so the file's value
#     (changed or not) is written;
#   - the row has another value: staff (or a merge) changed it since the last import, and that
#     change stands, reported as kept, whatever the file now says.
# Rows the file does not list are left alone when they were added in the database (a signature
# staff added, an other name a merge added) or changed there, which includes a part moved to
# another record since (the other names a merge moves to the record it keeps): a part's
# fingerprint key names the record it was written under. A row the last import wrote, that
# nobody changed since and that the file no longer lists, goes, as the file says. A row staff
# deleted, or moved to another record, is not written again where the file has it. Where a
# merge made two signatures of the file's organisations one, that one stands. With `replace`,
# every record is made to match its file exactly.
# Rows imported before fingerprints were kept count as unchanged since the import when their
# last history entry is the import's.

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

IMPORT_REASON = "Imported from "
# Kept by the database when a row is saved, not edited by staff: restored from a file that
# gives them (an export), otherwise left to the database.
STAMPS = ("created_at", "updated_at")
_MISSING = object()


def _json(value):
    """A value as a fingerprint keeps it: a related row by its id, times in UTC, ISO 8601."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):  # the rows of a many-to-many field
        return sorted(_json(item) for item in value)
    return value


def _shown(value) -> str:
    """A value as a report shows it."""
    if isinstance(value, list | tuple | set):
        return "“" + ", ".join(sorted(str(_slug_or_text(item)) for item in value)) + "”"
    if value is None or value == "":
        return "(blank)"
    text = str(_slug_or_text(value))
    if isinstance(value, datetime.datetime):
        text = value.astimezone(datetime.UTC).isoformat()
    text = " ".join(text.split())
    return f"“{text[:59]}…”" if len(text) > 60 else f"“{text}”"


def _slug_or_text(value):
    return getattr(value, "slug", None) or value if isinstance(value, models.Model) else value


def describe(obj: models.Model) -> str:
    """Which row, as a report names it: its record's slug, then the part."""
    label = LABELS[type(obj)]
    if isinstance(obj, Topic | Organization | Statement):
        return f"{label} “{obj.slug}”"
    if isinstance(obj, OtherName | FormerSlug):
        name = obj.name if isinstance(obj, OtherName) else obj.slug
        return f"organisation “{obj.organization.slug}”: {label} “{name}”"
    if isinstance(obj, Signature):
        part = f"signature of “{obj.organization.slug}”"
    elif isinstance(obj, Quote):
        part = f"quote of {_shown(obj.speaker)}"
    else:
        part = f"{label} {_shown(str(obj))}"
    return f"statement “{obj.statement.slug}”: {part}"


def _parent(part: models.Model) -> str:
    """The record a part belongs to, as a report names it."""
    if isinstance(part, OtherName | FormerSlug):
        return f"organisation “{part.organization.slug}”"
    return f"statement “{part.statement.slug}”"


def _parent_id(fingerprint: ImportedRecord) -> str:
    """The id of the record a part's fingerprint was written under (its key's first part)."""
    return fingerprint.key.partition(":")[0]


def _digest(identity) -> str:
    return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()[:40]


def _imported_history(obj: models.Model, names, reason: str) -> dict | None:
    """
    For a row imported before fingerprints were kept: the values its last history entry
    holds, if that entry is the import of the same file (`reason`), so that nobody changed
    the row since; else None.
    """
    manager = getattr(obj, "history", None)
    if manager is None or obj.pk is None:
        return None
    last = manager.order_by("-history_date", "-history_id").first()
    if (
        last is None
        or getattr(last, "history_user_id", None) is not None
        or last.history_change_reason != reason
    ):
        return None
    values = {}
    for name in names:
        model_field = obj._meta.get_field(name)
        if not model_field.many_to_many and hasattr(last, model_field.attname):
            values[name] = _json(getattr(last, model_field.attname))
    return values


@dataclass
class _Plan:
    """One row's write, decided before any of its record's rows is written."""

    obj: models.Model
    record: Record
    key: str
    adding: bool
    fingerprint: dict  # the file's values, as the next import compares them
    changes: list[str]  # "field: old → new", of the fields written
    kept: list[str]  # "field: database's value (the file: …)", of the fields kept
    kept_names: list[str]
    m2m: dict  # many-to-many fields to set after saving
    stamps: dict  # created_at and updated_at to set after saving
    exclude: list


class Writer:
    def __init__(self, report: ImportReport, *, replace: bool = False):
        self.report = report
        self.replace = replace
        self.now = timezone.now()
        self.organization_slugs: set[str] = set()  # every organisation the import defines
        self.statement_slugs: set[str] = set()  # every statement the import defines
        # Former slugs the files give their organisations: the organisation's slug, by each.
        self.declared_former_slugs: dict[str, str] = {}
        # Records of this import by their slug in the files; None for those staff deleted.
        self.topics: dict[str, Topic | None] = {}
        self.organizations: dict[str, Organization | None] = {}
        self.statements: dict[str, Statement | None] = {}
        # Writes that need the statements of the import written first, in the same transaction.
        self.after_statements: list = []
        self._fingerprints: dict[tuple[str, str], tuple[dict, dict]] = {}
        # (model, slug): the id of a record the last import wrote and staff deleted since.
        self.deleted: dict[tuple[type, str], int] = {}
        # Parts moved to another record since the last import, reported once (from where the
        # file has them, or where they are now, whichever the import comes to first).
        self.moved: set[tuple[type, int]] = set()
        # What the derived data is recomputed for when the import ends (derived.refresh): the
        # statements written, and the organisations that had signed them before.
        self.touched_statements: set[int] = set()
        self.touched_organizations: set[int] = set()

    @staticmethod
    def reason(record: Record) -> str:
        """What the history of every row an import writes says: the file it came from."""
        return f"{IMPORT_REASON}{source(record)}"[:100]

    # Fingerprints.

    def fingerprints(self, model, record: Record) -> tuple[dict, dict]:
        """The fingerprints `record`'s file left of one model's rows: by key, and by row id."""
        label, name = model._meta.label_lower, source(record)
        if (label, name) not in self._fingerprints:
            rows = list(ImportedRecord.objects.filter(model=label, source=name))
            self._fingerprints[label, name] = (
                {row.key: row for row in rows},
                {row.object_id: row for row in rows},
            )
        return self._fingerprints[label, name]

    def base(self, obj: models.Model, record: Record, names=None) -> dict | None:
        """The values `record`'s file gave `obj` at its last import, or None if not known."""
        fingerprint = self.fingerprints(type(obj), record)[1].get(obj.pk)
        if fingerprint is not None:
            return fingerprint.values
        if names is None:
            names = [f.name for f in obj._meta.concrete_fields if not f.primary_key]
        names = [name for name in names if name not in STAMPS]
        return _imported_history(obj, names, self.reason(record))

    def remember(self, obj: models.Model, record: Record, key: str, values: dict):
        by_key, by_id = self.fingerprints(type(obj), record)
        mine, other = by_id.get(obj.pk), by_key.get(key)
        if other is not None and other is not mine:  # a row that is gone, or another's
            by_id.pop(other.object_id, None)
            other.delete()
        if mine is None:
            mine = ImportedRecord.objects.create(
                model=obj._meta.label_lower,
                object_id=obj.pk,
                source=source(record),
                key=key,
                values=values,
                imported_at=self.now,
            )
        elif mine.key != key or mine.values != values:
            by_key.pop(mine.key, None)
            mine.key, mine.values, mine.imported_at = key, values, self.now
            mine.save()
        by_key[key] = mine
        by_id[obj.pk] = mine

    def forget(self, obj: models.Model):
        """A row is deleted: every file's fingerprint of it goes."""
        label = obj._meta.label_lower
        for (model, _), (by_key, by_id) in self._fingerprints.items():
            mine = by_id.pop(obj.pk, None) if model == label else None
            if mine is not None:
                by_key.pop(mine.key, None)
        ImportedRecord.objects.filter(model=label, object_id=obj.pk).delete()

    # Writing rows.

    def plan(
        self,
        obj: models.Model,
        values: dict,
        record: Record,
        key: str,
        exclude=(),
        m2m: dict | None = None,
        remembered: dict | None = None,
    ) -> _Plan:
        """
        Decide what to write to `obj`: the file's `values`, except staff's changes since.
        `remembered` overrides what the fingerprint keeps of some fields.
        """
        m2m = dict(m2m or {})
        values = dict(values)
        stamps = {name: values.pop(name) for name in STAMPS if name in values}
        stamps = {name: value for name, value in stamps.items() if value is not None}
        adding = obj._state.adding
        before = {}
        if not adding:
            before = {name: getattr(obj, name) for name in values}
            before |= {name: list(getattr(obj, name).all()) for name in m2m}
        for name, value in values.items():
            setattr(obj, name, value)
        exclude = [*exclude, *m2m]
        try:
            # Cleaning also tidies values (spacing in names) as saving would, so that the
            # comparisons below see what would be stored.
            obj.clean_fields(exclude=exclude)
            obj.clean()
        except ValidationError as exc:
            raise _validation_error(record, exc) from None
        wanted = {name: getattr(obj, name) for name in values} | m2m
        fingerprint = {name: _json(value) for name, value in (wanted | stamps).items()}
        fingerprint |= remembered or {}

        changes, kept, kept_names = [], [], []
        if not adding:
            base = None if self.replace else self.base(obj, record, list(wanted))
            for name, value in wanted.items():
                old = before[name]
                if _json(old) == _json(value):
                    m2m.pop(name, None)
                    continue
                earlier = _MISSING if base is None else base.get(name, _MISSING)
                if self.replace or earlier == _json(old):
                    changes.append(f"{name}: {_shown(old)} → {_shown(value)}")
                    continue
                also = "" if earlier is _MISSING or earlier == _json(value) else ", changed too"
                kept.append(f"{name}: {_shown(old)} (the file{also}: {_shown(value)})")
                kept_names.append(name)
                if name in m2m:
                    del m2m[name]
                else:
                    setattr(obj, name, old)
            # The file's times come with the file's content, never over staff's changes.
            if not (self.replace or (changes and not kept)):
                stamps = {}
            for name, value in list(stamps.items()):
                if _json(getattr(obj, name)) == _json(value):
                    del stamps[name]
                elif name == "created_at" or not changes:
                    changes.append(f"{name}: {_shown(getattr(obj, name))} → {_shown(value)}")
        return _Plan(
            obj, record, key, adding, fingerprint, changes, kept, kept_names, m2m, stamps, exclude
        )

    def apply(self, plan: _Plan) -> bool:
        """Write what `plan` decided; True if anything was written."""
        obj = plan.obj
        label = LABELS[type(obj)]
        if plan.kept:
            self.report.kept[label] += 1
            self.report.kept_details.extend(f"{describe(obj)}: {kept}" for kept in plan.kept)
        written = plan.adding or bool(plan.changes)
        if written:
            try:
                obj.validate_unique(exclude=plan.exclude)
                obj.validate_constraints(exclude=plan.exclude)
            except ValidationError as exc:
                raise _validation_error(plan.record, exc) from None
            obj._change_reason = self.reason(plan.record)
            try:
                with transaction.atomic():
                    obj.save()
            except IntegrityError as exc:  # a race or a constraint validation cannot see
                raise plan.record.error(None, f"rejected by the database: {exc}.") from None
            for name, rows in plan.m2m.items():
                getattr(obj, name).set(rows)
            if plan.stamps:
                type(obj).objects.filter(pk=obj.pk).update(**plan.stamps)
                for name, value in plan.stamps.items():
                    setattr(obj, name, value)
                # The history entry just written shows the record as restored, too.
                historical = obj.history.model
                restored = {n: v for n, v in plan.stamps.items() if hasattr(historical, n)}
                latest = obj.history.order_by("-history_id").values("history_id")[:1]
                if restored:
                    historical.objects.filter(history_id__in=latest).update(**restored)
            if plan.adding:
                self.report.created[label] += 1
                self.report.actions.append(f"create {describe(obj)}")
            else:
                self.report.updated[label] += 1
                self.report.actions.append(f"change {describe(obj)}: " + "; ".join(plan.changes))
        elif not plan.kept:
            self.report.unchanged[label] += 1
        self.remember(obj, plan.record, plan.key, plan.fingerprint)
        return written

    def save(self, obj: models.Model, values: dict, record: Record, key: str, **options) -> bool:
        return self.apply(self.plan(obj, values, record, key, **options))

    def keep_deleted(self, model, what: str):
        """A record or part the last import wrote and staff deleted since: it stays deleted."""
        self.report.kept[LABELS[model]] += 1
        self.report.kept_details.append(
            f"{what}: deleted in the database since the last import, so not written again"
        )

    def keep_moved(self, row: models.Model, detail: str):
        """A part the last import wrote under one record and staff (or a merge) moved to another
        since: it stays where it is now, and is not written again where the file has it. Said
        once, by whichever of the two records the import comes to first."""
        if (type(row), row.pk) in self.moved:
            return
        self.moved.add((type(row), row.pk))
        self.report.kept[LABELS[type(row)]] += 1
        self.report.kept_details.append(detail)

    def parts(self, model, parent, parent_record, rows, wanted, natural, fixed: dict):
        """
        Match a record's parts in the file (`wanted`: record, identity, values) to its rows:
        the row the last import of the file wrote for the same part, else `natural(identity,
        values, rows, fingerprinted)` among the rows not yet matched. Plans their writes;
        returns the plans (None for a part staff deleted) and the rows no part matched.
        """
        by_key, by_id = self.fingerprints(model, parent_record)
        unmatched = {row.pk: row for row in rows}
        present = set(unmatched)
        plans: list[_Plan | None] = []  # in the order of `wanted`; None for a part left out
        for record, identity, values in wanted:
            key = f"{parent.pk}:{_digest(identity)}"
            fingerprint = by_key.get(key)
            row = None
            if fingerprint is not None:
                row = unmatched.pop(fingerprint.object_id, None)
                if fingerprint.object_id not in present and not self.replace:
                    # Not among this record's rows: deleted, or moved to another record.
                    moved = model.objects.filter(pk=fingerprint.object_id).first()
                    if moved is None:
                        self.keep_deleted(model, describe(model(**fixed, **values)))
                    else:
                        self.keep_moved(
                            moved,
                            f"{describe(model(**fixed, **values))}: moved to {_parent(moved)} "
                            "in the database since the last import, so not written again here",
                        )
                    plans.append(None)
                    continue
            if row is None:
                row = natural(identity, values, list(unmatched.values()), by_id)
                if row is not None:
                    del unmatched[row.pk]
            plans.append(self.plan(row or model(**fixed), values, record, key))
        return plans, list(unmatched.values())

    def leftovers(self, rows, parent: models.Model, parent_record: Record) -> list:
        """
        Rows of a record (`parent`) that its file does not list; returns those kept. The rows
        of all the records of one file share its fingerprints, and a fingerprint's key names
        the record the part was written under: a row the last import wrote under another record
        was moved here since (by a merge, or by staff), a change made in the database.
        """
        kept_rows = []
        for obj in rows:
            if not self.replace:
                fingerprint = self.fingerprints(type(obj), parent_record)[1].get(obj.pk)
                base = self.base(obj, parent_record)
                if base is None:
                    why = "added in the database, not in the file"
                elif fingerprint is not None and _parent_id(fingerprint) != str(parent.pk):
                    self.keep_moved(
                        obj,
                        f"{describe(obj)}: moved here from another record in the database "
                        "since the last import; the file does not have it here",
                    )
                    kept_rows.append(obj)
                    continue
                elif any(
                    _json(getattr(obj, name)) != value
                    for name, value in base.items()
                    if name not in STAMPS
                ):
                    why = "changed in the database since the last import; the file no longer has it"
                else:
                    why = None  # as the last import wrote it: the file took it out
                if why:
                    self.report.kept[LABELS[type(obj)]] += 1
                    self.report.kept_details.append(f"{describe(obj)}: {why}")
                    kept_rows.append(obj)
                    continue
            self.report.deleted[LABELS[type(obj)]] += 1
            self.report.actions.append(f"remove {describe(obj)}")
            self.forget(obj)
            obj._change_reason = self.reason(parent_record)
            obj.delete()
        return kept_rows


def _validation_error(record: Record, exc: ValidationError) -> ImportDataError:
    if hasattr(exc, "error_dict"):
        field_name, messages = next(iter(exc.message_dict.items()))
        key = {"date_precision": "date", "__all__": None}.get(field_name, field_name)
        return record.error(key, " ".join(messages))
    return record.error(None, " ".join(exc.messages))


def import_documents(
    *, documents: list[Document], replace: bool = False, dry_run: bool = False
) -> ImportReport:
    report = ImportReport(files=[document.name for document in documents], dry_run=dry_run)
    writer = Writer(report, replace=replace)
    with transaction.atomic():
        topics = _collect(documents, "topics")
        organizations = _collect(documents, "organizations")
        writer.organization_slugs = set(organizations)
        statements = _collect(documents, "statements")
        writer.statement_slugs = set(statements)
        # The statements the files will write, first, as every write of signatures does.
        derived.lock_for_write(
            statement_ids=Statement.objects.filter(slug__in=statements)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for record in topics.values():
            _import_topic(writer, record)
        for record in organizations.values():
            _import_organization(writer, record)
        for record in statements.values():
            _import_statement(writer, record)
        for write in writer.after_statements:
            write()
        # The rows were written one by one, and what is derived from them once, here.
        derived.lock_for_write(organization_ids=sorted(writer.touched_organizations))
        derived.refresh(
            organization_ids=writer.touched_organizations,
            statement_ids=writer.touched_statements,
        )
        if dry_run:
            transaction.set_rollback(True)
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


def source(record: Record) -> str:
    """Which file a record comes from, for fingerprints and history: its name, without the
    folder, so that it is the same file wherever the import is run from."""
    return Path(record.source).name[:100]


def _existing(writer: Writer, model, slug: str, record: Record):
    """
    The row a file's record is: the one the last import wrote for it (even if staff changed
    its slug since), else the one with its slug, else a new one. None if staff deleted the
    row the last import wrote (it stays deleted, unless the import replaces).
    """
    fingerprint = writer.fingerprints(model, record)[0].get(slug)
    if fingerprint is not None:
        obj = model.objects.filter(pk=fingerprint.object_id).first()
        if obj is not None:
            return obj
        if not writer.replace and not model.objects.filter(slug=slug).exists():
            writer.keep_deleted(model, f"{LABELS[model]} “{slug}”")
            writer.deleted[model, slug] = fingerprint.object_id
            return None
    return model.objects.filter(slug=slug).first() or model(slug=slug)


def _stamps(record: Record) -> dict:
    """The times an export gives a record (blank in ordinary files: the database's own)."""
    return {name: record.datetime(name) for name in STAMPS}


def _import_topic(writer: Writer, record: Record):
    slug = record.text("slug", required=True)
    values = {
        "name": record.text("name", required=True),
        "description": record.text("description"),
    }
    record.check_no_unknown_keys()
    topic = _existing(writer, Topic, slug, record)
    writer.topics[slug] = topic
    if topic is not None:
        writer.save(topic, values, record, key=slug)


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
        **_stamps(record),
    }
    other_names = []
    withheld: dict[int, str] = {}  # by place in other_names: the slug of the draft named
    seen = set()
    for item in record.records("other_names"):
        item_values = {
            "name": item.text("name", required=True),
            "kind": item.text("kind") or OtherName.Kind.VARIANT,
        }
        draft = item.text("withheld_until")
        if draft:
            if (
                draft not in writer.statement_slugs
                and not Statement.objects.filter(slug=draft).exists()
            ):
                raise item.error(
                    "withheld_until",
                    f"no statement with slug “{draft}”; define it under “statements”.",
                )
            withheld[len(other_names)] = draft
        item.check_no_unknown_keys()
        identity = name_key(item_values["name"])
        if identity in seen:
            raise item.error("name", f"“{item_values['name']}” is listed twice.")
        seen.add(identity)
        other_names.append((item, identity, item_values))
    former_slugs = _former_slugs(writer, record)
    record.check_no_unknown_keys()
    for former, _draft in former_slugs:
        writer.declared_former_slugs.setdefault(former, slug)

    if (
        not Organization.objects.filter(slug=slug).exists()
        and FormerSlug.objects.filter(slug=slug).exists()
    ):
        # Staff merged this organisation into another since the file was written: the
        # merged record stands, and references to the old slug follow it (_organization).
        writer.report.unchanged[LABELS[Organization]] += 1
        return
    organization = _existing(writer, Organization, slug, record)
    writer.organizations[slug] = organization
    if organization is None:
        return
    writer.save(organization, values, record, key=slug)

    if withheld:
        # A name withheld until a draft of this import is published needs that draft
        # written first: its other names are written once the statements are.
        writer.after_statements.append(
            lambda: _write_other_names(writer, organization, record, other_names, withheld)
        )
    else:
        _write_other_names(writer, organization, record, other_names, withheld)

    for former, _draft in former_slugs:
        if former in writer.organization_slugs:
            # Else, whichever came first in the files, one record would swallow the other.
            raise record.error(
                "former_slugs", f"“{former}” is also an organisation of this import."
            )
    if any(draft for _former, draft in former_slugs):
        # As for other names: a slug withheld until a draft of this import needs it written.
        writer.after_statements.append(
            lambda: _write_former_slugs(writer, organization, record, former_slugs)
        )
    else:
        _write_former_slugs(writer, organization, record, former_slugs)


def _former_slugs(writer: Writer, record: Record) -> list[tuple[str, str]]:
    """
    An organisation's former slugs in a file: each a slug, or, for one withheld until a
    draft is published, a mapping of `slug` and `withheld_until` (the draft's slug). Returns
    (slug, draft slug or "") pairs.
    """
    items = record._get("former_slugs", False)
    if items is None:
        return []
    if not isinstance(items, list):
        raise record.error("former_slugs", f"expected a list, got {_kind(items)}.")
    former_slugs = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            former_slugs.append((record._clean_text("former_slugs", item), ""))
            continue
        if not isinstance(item, dict):
            raise record.error(
                "former_slugs",
                f"expected slugs, or mappings of slug and withheld_until; item {index + 1} "
                f"is {_kind(item)}.",
            )
        entry = Record(item, f"{record.where}: former_slugs[{index}]", record.source)
        slug = entry.text("slug", required=True)
        draft = entry.text("withheld_until")
        entry.check_no_unknown_keys()
        if (
            draft
            and draft not in writer.statement_slugs
            and not Statement.objects.filter(slug=draft).exists()
        ):
            raise entry.error(
                "withheld_until", f"no statement with slug “{draft}”; define it under “statements”."
            )
        former_slugs.append((slug, draft))
    return former_slugs


def _write_former_slugs(writer, organization, record, former_slugs: list[tuple[str, str]]):
    """
    Former slugs (addresses of organisations merged into this one) are only ever added: a
    file that leaves them out, like the seeds, keeps the redirects staff made by merging.
    One withheld until a draft (a Withholding) does not redirect until then.
    """
    for former, slug in former_slugs:
        draft = None
        if slug and slug in writer.statements:
            draft = writer.statements[slug]
            if draft is None:  # staff deleted it, and with it the addresses it vouched for
                writer.keep_deleted(
                    FormerSlug,
                    f"organisation “{organization.slug}”: former slug “{former}” (withheld "
                    f"until the deleted statement “{slug}”)",
                )
                continue
        elif slug:
            draft = Statement.objects.filter(slug=slug).first()
            if draft is None:  # deleted since the file was read
                raise record.error("former_slugs", f"no statement with slug “{slug}”.")
        current = FormerSlug.objects.filter(slug=former).select_related("organization").first()
        if current is None:
            row = FormerSlug(organization=organization)
            writer.save(
                row,
                {"slug": former, "withheld": draft is not None and not draft.is_public},
                record,
                key=f"{organization.pk}:{former}",
            )
            withhold(row=row, statement=draft, reason=writer.reason(record))
        elif current.organization_id != organization.pk:
            raise record.error(
                "former_slugs",
                f"“{former}” already redirects to “{current.organization.slug}”.",
            )


def _write_other_names(writer, organization, record, other_names, withheld: dict[int, str]):
    """Write an organisation's other names, each withheld until the draft its file names."""
    wanted, drafts = [], []
    for index, (item, identity, item_values) in enumerate(other_names):
        draft = None
        if index in withheld:
            slug = withheld[index]
            if slug in writer.statements:
                draft = writer.statements[slug]
                if draft is None:  # staff deleted it, and with it the names it vouched for
                    writer.keep_deleted(
                        OtherName,
                        f"organisation “{organization.slug}”: other name "
                        f"“{item_values['name']}” (withheld until the deleted statement "
                        f"“{slug}”)",
                    )
                    continue
            else:
                draft = Statement.objects.filter(slug=slug).first()
                if draft is None:  # deleted since the file was read
                    raise item.error("withheld_until", f"no statement with slug “{slug}”.")
        drafts.append(draft)
        hidden = draft is not None and not draft.is_public
        wanted.append((item, identity, {**item_values, "withheld": hidden}))

    # Other names are matched by their key: case and look-alike characters ignored.
    def same_name(identity, values, rows, fingerprinted):
        return next((row for row in rows if row.name_key == identity), None)

    plans, leftovers = writer.parts(
        OtherName,
        organization,
        record,
        list(organization.other_names.all()),
        wanted,
        same_name,
        {"organization": organization},
    )
    writer.leftovers(leftovers, organization, record)
    for plan, draft in zip(plans, drafts, strict=True):
        if plan is not None:
            writer.apply(plan)
            if "withheld" not in plan.kept_names:  # else staff's release stands
                withhold(row=plan.obj, statement=draft, reason=writer.reason(record))


class _Gone(Exception):
    """A part names an organisation staff deleted since the last import."""


def _organization(
    record: Record, key: str, required: bool, writer: Writer | None = None
) -> Organization | None:
    slug = record.text(key, required=required)
    if not slug:
        return None
    if writer is not None and slug in writer.organizations:
        if writer.organizations[slug] is None:
            raise _Gone(slug)
        return writer.organizations[slug]
    organization = (
        Organization.objects.filter(slug=slug).first()
        or Organization.objects.filter(former_slugs__slug=slug).first()
    )
    if organization is None:
        raise record.error(
            key, f"no organisation with slug “{slug}”; define it under “organizations”."
        )
    return organization


def _position(item: Record, index: int) -> int:
    """A part's place: as the file gives it (an export keeps gaps), else its place in the list."""
    position = item.integer("position")
    if position is None:
        return index + 1
    if position < 0:
        raise item.error("position", f"{position} is not a place in a list (0 or more).")
    return position


def _numbered(identities: list[list]) -> list[list]:
    """Identities made unique by their occurrence: the second of two alike parts is [..., 2]."""
    seen: Counter = Counter()
    numbered = []
    for identity in identities:
        seen[json.dumps(identity, ensure_ascii=False)] += 1
        numbered.append([*identity, seen[json.dumps(identity, ensure_ascii=False)]])
    return numbered


def _alike(identity_of):
    """Match a part to a row the import has no fingerprint of (one imported before fingerprints
    were kept, or added in the database) that is the same part."""

    def natural(identity, values, rows, fingerprinted):
        return next(
            (
                row
                for row in rows
                if row.pk not in fingerprinted and identity_of(row) == identity[:-1]
            ),
            None,
        )

    return natural


# What identifies a part in its file, when its place in the list does not: a part whose
# identity changes in the file is another part (the old one goes, if nobody changed it).
# Not the organisation, which a merge may change on both sides.
def _contact_identity(row) -> list:
    return ["contact", row.name, row.email, row.phone]


def _coverage_identity(row) -> list:
    return ["coverage", row.outlet, row.headline, row.url]


def _quote_identity(row) -> list:
    return ["quote", row.speaker, row.text]


def _write_parts(writer, model, statement, record, rows, wanted, identity_of, natural=None):
    """Plan, then write, a statement's parts of one kind; returns the plans, as `wanted`."""
    identities = _numbered([identity_of(model(**values)) for _, values in wanted])
    plans, leftovers = writer.parts(
        model,
        statement,
        record,
        rows,
        [
            (item, identity, values)
            for (item, values), identity in zip(wanted, identities, strict=True)
        ],
        natural or _alike(identity_of),
        {"statement": statement},
    )
    kept_rows = writer.leftovers(leftovers, statement, record)
    if model is CoverageLink:
        _one_first_reported(writer, [plan for plan in plans if plan is not None], kept_rows)
    # One first-reported item per statement: the items that lose the flag are saved first.
    for plan in sorted(
        (plan for plan in plans if plan is not None),
        key=lambda plan: bool(getattr(plan.obj, "first_reported", False)),
    ):
        writer.apply(plan)
    return plans


def _one_first_reported(writer: Writer, plans: list[_Plan], kept_rows: list):
    """
    A statement has one first-reported item. When staff marked one in the database (an item
    they added, or the flag kept on an item of the file), the file's flag on another item is
    left off, and reported; the next import sees the same and keeps it so.
    """
    marked = [row for row in kept_rows if row.first_reported] + [
        plan.obj
        for plan in plans
        if plan.obj.first_reported and "first_reported" in plan.kept_names
    ]
    if not marked:
        return
    for plan in plans:
        if plan.obj.first_reported and plan.obj not in marked:
            plan.obj.first_reported = False
            plan.changes = [c for c in plan.changes if not c.startswith("first_reported:")]
            plan.kept.append(
                f"first_reported: left off, as {describe(marked[0])} is marked first reported "
                "in the database"
            )
            plan.kept_names.append("first_reported")


def _one_signature_each(statement_slug: str, signatures: list) -> tuple[list, list[str]]:
    """
    A statement's signatures as the file gives them, one for each organisation: where two
    organisations of the file were merged in the database since, their signatures became one
    (statements.merging), which stands. The file's signature of the organisation kept by the
    merge is the one written (else the first); returns the signatures, and what was left out.
    """
    by_organization: dict[int, list] = {}
    for part in signatures:
        by_organization.setdefault(part[1]["organization"].pk, []).append(part)
    written, combined = [], []
    for part in signatures:
        organization = part[1]["organization"]
        alike = by_organization[organization.pk]
        chosen = next(
            (other for other in alike if other[0].text("organization") == organization.slug),
            alike[0],
        )
        if part is chosen:
            written.append(part)
            continue
        named, chosen_named = part[0].text("organization"), chosen[0].text("organization")
        merged = (
            f"“{named}” was merged into “{organization.slug}”"
            if chosen_named == organization.slug
            else f"“{named}” and “{chosen_named}” were merged into “{organization.slug}”"
        )
        combined.append(
            f"statement “{statement_slug}”: signature of “{named}”: {merged} in the database, "
            "and the merge made their signatures of this statement one, which stands"
        )
    return written, combined


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
        **_stamps(record),
    }
    topics = []
    deleted_topics = []  # the ids they had, as the fingerprint keeps the file's list
    topic_slugs = record.texts("topics")
    # Topics this import does not define, from the database in one query.
    stored_topics = Topic.objects.in_bulk(
        [slug for slug in topic_slugs if slug not in writer.topics], field_name="slug"
    )
    for topic_slug in topic_slugs:
        if topic_slug in writer.topics:
            topic = writer.topics[topic_slug]
            if topic is None:
                deleted_topics.append(writer.deleted[Topic, topic_slug])
        else:
            topic = stored_topics.get(topic_slug)
            if topic is None:
                raise record.error(
                    "topics", f"no topic with slug “{topic_slug}”; define it under “topics”."
                )
        if topic is not None:  # else staff deleted it (reported)
            topics.append(topic)

    left_out = []

    def items(key, read):
        parts = []
        for index, item in enumerate(record.records(key)):
            try:
                item_values = read(item)
            except _Gone as gone:
                left_out.append(
                    f"statement “{slug}”: {key}[{index}]: not written, as the organisation "
                    f"“{gone}” was deleted in the database since the last import"
                )
                continue
            item_values["position"] = _position(item, index)
            item.check_no_unknown_keys()
            parts.append((item, item_values))
        return parts

    # The organisations that signed, as the file names them (a former slug the files give
    # stands for its organisation), each with its item.
    signed: dict[str, Record] = {}

    def signature(item):
        organization = _organization(item, "organization", True, writer)
        named = item.text("organization")
        meant = writer.declared_former_slugs.get(named, named)
        if meant in signed:
            also = "" if meant == named else f" (a former slug of “{meant}”)"
            raise item.error(
                "organization",
                f"“{named}”{also} already signed this statement at {signed[meant].where}.",
            )
        signed[meant] = item
        return {
            "organization": organization,
            "role": item.text("role") or Signature.Role.SIGNATORY,
            "name_as_printed": item.text("name_as_printed"),
            "joined_on": item.date("joined_on"),
            "withdrawn_on": item.date("withdrawn_on"),
            "withdrawal_reason": item.text("withdrawal_reason"),
        }

    signatures, combined = _one_signature_each(slug, items("signatures", signature))
    contacts = items(
        "media_contacts",
        lambda item: {
            "organization": _organization(item, "organization", False, writer),
            "name": item.text("name"),
            "email": item.text("email"),
            "phone": item.text("phone"),
            "is_public": item.boolean("is_public", default=True),
        },
    )
    refs: dict[str, int] = {}

    def coverage_item(item):
        ref = item.text("ref")
        if ref:
            if ref in refs:
                raise item.error("ref", f"“{ref}” is used by another coverage item.")
            refs[ref] = len(refs_order)
        refs_order.append(item)
        date, precision = item.partial_date("date")
        return {
            "outlet": item.text("outlet"),
            "headline": item.text("headline"),
            "url": item.text("url"),
            "date": date,
            "date_precision": precision,
            "kind": item.text("kind") or CoverageLink.Kind.NEWS,
            "first_reported": item.boolean("first_reported", default=False),
            "notes": item.text("notes"),
        }

    refs_order: list[Record] = []
    coverage = items("coverage", coverage_item)
    sources: list[str] = []

    def quote(item):
        source = item.text("source")
        if source and source not in refs:
            raise item.error("source", f"no coverage item of this statement has ref “{source}”.")
        read = {
            "speaker": item.text("speaker", required=True),
            "speaker_title": item.text("speaker_title"),
            "organization": _organization(item, "organization", False, writer),
            "text": item.text("text", required=True),
        }
        sources.append(source)
        return read

    quotes = items("quotes", quote)
    record.check_no_unknown_keys()

    statement = _existing(writer, Statement, slug, record)
    writer.statements[slug] = statement
    if statement is None:
        return
    writer.report.kept_details.extend(left_out)
    writer.report.kept["statement"] += bool(left_out)
    writer.report.kept_details.extend(combined)
    writer.report.kept["signature"] += len(combined)
    writer.save(
        statement,
        values,
        record,
        key=slug,
        exclude=["topics", "document"],
        m2m={"topics": topics},
        remembered={"topics": _json([*topics, *deleted_topics])},
    )

    for _, item_values in signatures:
        if item_values["joined_on"] is None:
            item_values["joined_on"] = statement.issued_on
    signature_rows = list(statement.signatures.select_related("organization"))
    writer.touched_statements.add(statement.pk)
    writer.touched_organizations.update(row.organization_id for row in signature_rows)
    _write_parts(
        writer,
        Signature,
        statement,
        record,
        signature_rows,
        signatures,
        lambda row: ["signature", _json(row.organization)],
        natural=lambda identity, values, rows, fingerprinted: next(
            (row for row in rows if row.organization_id == values["organization"].pk), None
        ),
    )
    _write_parts(
        writer,
        MediaContact,
        statement,
        record,
        list(statement.media_contacts.select_related("organization")),
        contacts,
        _contact_identity,
    )
    coverage_plans = _write_parts(
        writer,
        CoverageLink,
        statement,
        record,
        list(statement.coverage.all()),
        coverage,
        _coverage_identity,
    )
    by_ref = {
        ref: coverage_plans[index].obj
        for ref, index in refs.items()
        if coverage_plans[index] is not None
    }
    for (_, item_values), source in zip(quotes, sources, strict=True):
        item_values["source"] = by_ref.get(source)
    _write_parts(
        writer, Quote, statement, record, list(statement.quotes.all()), quotes, _quote_identity
    )
