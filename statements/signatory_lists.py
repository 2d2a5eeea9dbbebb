"""
Adding a list of signatories to a statement: from pasted text or a CSV file, through a
preview in which staff confirm or change each line's organisation, to one transaction.

Nothing here writes until `add_signatories`, and that writes everything or nothing. Every
problem is reported against the line it comes from, as staff numbered it (the line of the
paste, or of the CSV file counting its header).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from organizations import judgements
from organizations.matching import Match, Matcher, PastedLine, match_key, parse_pasted_list
from organizations.models import FormerSlug, Organization, OtherName, name_key, normalize_name
from tracker.text import tidy_breaks, unstorable_character

from . import derived, signing
from .models import Signature, Statement

# The confirmation posts one field a line and the list again: Django's limits of 1,000
# fields and 2.5 MB a request must hold it (URL-encoding can triple text).
MAX_LINES = 900
MAX_TEXT = 500_000  # characters of pasted text, or of a decoded CSV file
NAME_MAX = Organization._meta.get_field("name").max_length
ACRONYM_MAX = Organization._meta.get_field("acronym").max_length
CSV_COLUMNS = ("name", "acronym", "role", "joined_on", "withdrawn_on", "withdrawal_reason")
# A line naming "=HYPERLINK(…)" or "@someone" is a formula or a mention, never an
# organisation: taken as a new one, it would reach every CSV download of the list. (A
# leading "+" or "-" is a bullet, removed from pasted lines; "+972 Magazine" is a name.)
NOT_A_NAME_START = ("=", "@")


class ListError(ValidationError):
    """A problem with the list as a whole or with some of its lines; nothing is written."""


@dataclass
class Entry:
    """One organisation of the list, with what its signature will say."""

    line: PastedLine
    role: str
    joined_on: datetime.date
    withdrawn_on: datetime.date | None = None
    withdrawal_reason: str = ""

    @property
    def number(self) -> int:
        return self.line.number


def _line_error(number: int, message: str) -> str:
    return f"Line {number}: {message}"


def entries_from_text(text: str, *, role: str, joined_on: datetime.date) -> list[Entry]:
    """One entry per pasted line that names something."""
    _check_size(text)
    lines = parse_pasted_list(text)
    if not lines:
        raise ListError("The list is empty: paste one organisation per line.", code="empty")
    entries = [Entry(line, role, joined_on) for line in lines]
    _check_entries(entries)
    return entries


def decode_csv(data: bytes) -> str:
    """The file as text: UTF-8 (with or without a byte-order mark) only."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        number = data.count(b"\n", 0, exc.start) + 1
        raise ListError(
            _line_error(
                number,
                f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read). "
                "Save the spreadsheet as “CSV UTF-8” and upload it again.",
            ),
            code="encoding",
        ) from None


def entries_from_csv(text: str, *, role: str, joined_on: datetime.date) -> list[Entry]:
    """
    One entry per row of a CSV file whose first line names its columns: `name` (required),
    and optionally `acronym`, `role`, `joined_on`, `withdrawn_on`, `withdrawal_reason`.
    A row's role and dates, when given, replace the ones chosen on the form.
    """
    _check_size(text)
    if "\x00" in text:
        number = text.count("\n", 0, text.index("\x00")) + 1
        raise ListError(_line_error(number, "contains a NUL byte."), code="nul")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ListError("The file is empty: its first line must name the columns.")
        columns = [cell.strip().lower().replace(" ", "_") for cell in header]
        unknown = [c for c in columns if c not in CSV_COLUMNS]
        if unknown:
            raise ListError(
                _line_error(
                    1,
                    f"unknown column “{unknown[0]}”. The columns are: {', '.join(CSV_COLUMNS)}.",
                ),
                code="columns",
            )
        if "name" not in columns:
            raise ListError(_line_error(1, "there is no “name” column."), code="columns")
        repeated = [c for c in columns if columns.count(c) > 1]
        if repeated:
            raise ListError(_line_error(1, f"the column “{repeated[0]}” appears twice."))
        entries, errors = [], []
        start = 2  # the physical line a row starts on (a quoted cell may span lines)
        for row in reader:
            number, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                errors.append(
                    _line_error(number, f"{len(row)} cells where the header has {len(columns)}.")
                )
                continue
            try:
                values = dict(zip(columns, row, strict=True))
                entries.append(_csv_entry(number, values, role, joined_on))
            except ListError as exc:
                errors.extend(exc.messages)
            if len(entries) > MAX_LINES:
                raise ListError(f"The list has more than {MAX_LINES} rows; split it.")
    except csv.Error as exc:
        raise ListError(
            _line_error(reader.line_num or 1, f"the file is not valid CSV ({exc}).")
        ) from None
    if errors:
        raise ListError(errors)
    if not entries:
        raise ListError("The file has no rows below its header.", code="empty")
    _check_entries(entries)
    return entries


def _csv_entry(number: int, row: dict, role: str, joined_on: datetime.date) -> Entry:
    name = normalize_name(row["name"])
    if not name:
        raise ListError(_line_error(number, "the name is empty."))
    acronym = normalize_name(row.get("acronym", ""))
    printed = f"{name} ({acronym})" if acronym else name
    line = PastedLine(number, ",".join(row.values()), printed, name, acronym)
    row_role = row.get("role", "").strip().lower() or role
    if row_role not in Signature.Role.values:
        raise ListError(
            _line_error(number, f"the role must be “lead” or “signatory”, not “{row_role}”.")
        )

    def date(key, default):
        value = row.get(key, "").strip()
        if not value:
            return default
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise ListError(
                _line_error(number, f"{key} “{value}” is not a date in the form YYYY-MM-DD.")
            ) from None

    reason = tidy_breaks(row.get("withdrawal_reason", "").strip(), multiline=True)
    entry = Entry(
        line,
        row_role,
        date("joined_on", joined_on),
        date("withdrawn_on", None),
        reason,
    )
    if entry.withdrawn_on and entry.withdrawn_on < entry.joined_on:
        raise ListError(
            _line_error(
                number,
                f"withdrawn on {entry.withdrawn_on} is before joining on {entry.joined_on}.",
            )
        )
    if reason and not entry.withdrawn_on:
        raise ListError(_line_error(number, "a withdrawal reason needs a withdrawn_on date."))
    return entry


def _check_size(text: str):
    if len(text) > MAX_TEXT:
        raise ListError(f"The list is over {MAX_TEXT:,} characters; split it.", code="size")


def _check_entries(entries: list[Entry]):
    errors = []
    if len(entries) > MAX_LINES:
        raise ListError(f"The list has more than {MAX_LINES} names; split it.", code="size")
    for entry in entries:
        texts = (
            ("name", entry.line.name),
            ("acronym", entry.line.acronym),
            ("withdrawal_reason", entry.withdrawal_reason),
        )
        for what, value in texts:
            character = unstorable_character(value)
            if character is not None:
                errors.append(
                    _line_error(
                        entry.number,
                        f"the {what} contains an invisible control character ({character}). "
                        "Remove it, or paste the list as plain text.",
                    )
                )
            elif what != "withdrawal_reason" and value.startswith(NOT_A_NAME_START):
                errors.append(
                    _line_error(
                        entry.number,
                        f"the {what} “{value[:60]}” begins with “{value[0]}”, as a spreadsheet "
                        "formula or a mention does, and no organisation's name does. Remove "
                        "the line, or type the name as the organisation writes it.",
                    )
                )
        if len(entry.line.name) > NAME_MAX:
            errors.append(_line_error(entry.number, f"the name is over {NAME_MAX} characters."))
        if len(entry.line.acronym) > ACRONYM_MAX:
            errors.append(
                _line_error(entry.number, f"the acronym is over {ACRONYM_MAX} characters.")
            )
    if errors:
        raise ListError(errors)


# --- Preview and confirmation ----------------------------------------------------------


@dataclass
class Row:
    """One line of the preview: how it matched, and what confirming will do with it."""

    entry: Entry
    match: Match
    already: Signature | None = None  # the statement's existing signature, if any

    @property
    def number(self):
        return self.entry.number

    @property
    def kind(self) -> str:
        """What staff need to do: decide (suggested), check a new name (new), or nothing."""
        if self.already is not None:
            return "already"
        if self.match.needs_decision:
            return "suggested"
        return "new" if self.match.is_new else "matched"

    @property
    def same_as(self):
        """What makes two lines one organisation: its id, or a new one's name."""
        if self.match.organization is not None:
            return self.match.organization.pk
        return ("new", match_key(self.entry.line.base_name))


KINDS = ("suggested", "new", "matched", "already")  # the preview's sections, in order


def counts(rows: list[Row]) -> dict[str, int]:
    """How many lines of each kind, in the order the preview shows them."""
    found = dict.fromkeys(KINDS, 0)
    for row in rows:
        found[row.kind] += 1
    return found


def repeats(rows: list[Row]) -> dict[int, int]:
    """Each line that names the same organisation as an earlier one: number -> earlier."""
    first: dict[object, int] = {}
    repeated = {}
    for row in rows:
        key = row.same_as
        if key in first:
            repeated[row.number] = first[key]
        else:
            first[key] = row.number
    return repeated


def renamed(entries: list[Entry], names: dict[int, tuple[str, str]]) -> list[Entry]:
    """
    The entries with the names staff gave new organisations in the preview (by the entry's
    index: name and acronym, blank for as printed), checked as a pasted line's are.
    """
    changed = []
    for index, entry in enumerate(entries):
        name, acronym = names.get(index, ("", ""))
        name, acronym = normalize_name(name), normalize_name(acronym)
        if not name and not acronym:
            changed.append(entry)
            continue
        line = replace(
            entry.line,
            base_name=name or entry.line.base_name,
            acronym=acronym if name or acronym else entry.line.acronym,
        )
        changed.append(replace(entry, line=line))
    _check_entries(changed)
    return changed


def preview(statement: Statement, entries: list[Entry]) -> list[Row]:
    matches = Matcher().match_all([entry.line for entry in entries])
    matched = {match.organization.pk for match in matches if match.organization}
    existing = {
        s.organization_id: s for s in statement.signatures.filter(organization_id__in=matched)
    }
    return [
        Row(entry, match, existing.get(match.organization.pk) if match.organization else None)
        for entry, match in zip(entries, matches, strict=True)
    ]


def unmatched(entries: list[Entry]) -> list[Row]:
    """The rows of a confirmation, whose organisations staff chose: nothing is matched."""
    return [Row(entry, Match(entry.line, None, "chosen")) for entry in entries]


@dataclass
class Outcome:
    added: list[Signature] = field(default_factory=list)
    created: list[Organization] = field(default_factory=list)
    skipped: list[Entry] = field(default_factory=list)  # already on the statement
    judged: int = 0  # answers kept as judgements


def check_choices(
    statement: Statement, entries: list[Entry], choices: list[Organization | None]
) -> list[str]:
    """
    Problems with the organisations staff chose (None: a new one, named as printed): the
    same organisation on two lines, or a new organisation whose name is already taken.
    """
    errors = []
    by_org: dict[object, list[int]] = defaultdict(list)
    for entry, org in zip(entries, choices, strict=True):
        key = org.pk if org is not None else ("new", match_key(entry.line.base_name))
        by_org[key].append(entry.number)
    repeated = [(key, numbers) for key, numbers in by_org.items() if len(numbers) > 1]
    if len(repeated) == 1:
        key, numbers = repeated[0]
        what = "the same new organisation" if isinstance(key, tuple) else "one organisation"
        listed = ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"
        errors.append(
            f"Lines {listed} are {what}: it can sign only once. Drop the repeats or choose "
            "another organisation."
        )
    elif repeated:
        # One warning however many: a list pasted twice repeats every line.
        later = sorted(n for _, numbers in repeated for n in numbers[1:])
        shown = ", ".join(str(n) for n in later[:10]) + ("…" if len(later) > 10 else "")
        errors.append(
            f"{len(later)} lines repeat organisations named on earlier lines (lines {shown}): "
            "each can sign only once. Drop the repeats, or choose other organisations."
        )
    new_names = {
        name_key(entry.line.base_name): entry.number
        for entry, org in zip(entries, choices, strict=True)
        if org is None
    }
    if new_names:
        taken = (
            Organization.objects.filter(name_key__in=new_names)
            .order_by()
            .values_list("name", "name_key")
        )
        for name, key in taken:
            errors.append(
                _line_error(
                    new_names[key],
                    f"an organisation named “{name}” already exists; choose it instead "
                    "of creating a new one.",
                )
            )
        aliases = (
            OtherName.objects.filter(name_key__in=new_names)
            .exclude(name_key__in=[key for _, key in taken])
            .order_by()
            .values_list("name", "name_key", "organization__name")
            .order_by("pk")
        )
        for name, key, organization in aliases:
            number = new_names.pop(key, None)  # one message a line
            if number is not None:
                errors.append(
                    _line_error(
                        number,
                        f"“{name}” is an other name of “{organization}”; choose it instead "
                        "of creating a new organisation.",
                    )
                )
    return errors


def add_signatories(
    statement: Statement,
    entries: list[Entry],
    choices: list[Organization | None],
    *,
    reason: str,
    user=None,
    proposed: list[Row] | None = None,
) -> Outcome:
    """
    Add every entry as a signature, in printed order after the existing ones, creating the
    new organisations (printed name and acronym as other names). All or nothing; lines
    whose organisation already signed are skipped, so adding the same list twice adds
    nothing the second time. Reads and writes in bulk: the number of queries is the same
    for a list of 10 lines as of 900.

    `proposed`, the preview's rows, says what the matcher proposed for each line: where
    staff confirmed a suggestion, chose another organisation or cleared one, their answer is
    kept as a judgement (organizations.judgements), in the same transaction.
    """
    errors = check_choices(statement, entries, choices)
    if errors:
        raise ListError(errors)
    try:
        with transaction.atomic():
            outcome = _add(statement, entries, choices, reason[:100], user)
            if proposed is not None:
                outcome.judged = _judge(proposed, choices, user, reason)
            return outcome
    except IntegrityError:
        # Another save took a name or a place first (two staff adding the same list at once).
        raise ListError(
            "Nothing was saved: the organisations or signatures changed while you were "
            "checking the list. Preview it again."
        ) from None


def answers(proposed: list[Row], choices: list[Organization | None]):
    """
    (name as printed, organisation, same?) for each answer staff gave the matcher: a
    suggestion confirmed (same) or refused (not the same), a match changed (not the proposed
    organisation, the same as the chosen one), or an organisation chosen for a new line.
    """
    for row, chosen in zip(proposed, choices, strict=True):
        name, offered = row.entry.line.name, row.match.organization
        if offered is not None and chosen is not None and offered.pk == chosen.pk:
            if row.match.needs_decision:
                yield name, chosen, True
            continue
        if offered is not None:
            yield name, offered, False
        if chosen is not None:
            yield name, chosen, True


def _judge(proposed, choices, user, reason) -> int:
    count = 0
    for name, organization, same in answers(proposed, choices):
        judge = judgements.name_is_same if same else judgements.name_is_apart
        judge(name, organization, user=user, reason=reason)
        count += 1
    return count


def _add(statement, entries, choices, reason, user) -> Outcome:
    outcome = Outcome()
    chosen = [org.pk for org in choices if org is not None]
    with transaction.atomic():
        derived.lock_for_write(statement_ids=[statement.pk], organization_ids=sorted(chosen))
        signed = set(
            statement.signatures.filter(organization_id__in=chosen)
            .order_by()
            .values_list("organization_id", flat=True)
        )
        adding = []
        for entry, organization in zip(entries, choices, strict=True):
            if organization is not None and organization.pk in signed:
                outcome.skipped.append(entry)
            else:
                adding.append((entry, organization))
        new_lines = [entry.line for entry, organization in adding if organization is None]
        created = iter(_new_organizations(new_lines, entries, reason, user))
        rows, numbers = [], []
        for entry, organization in adding:
            if organization is None:
                organization = next(created)
                outcome.created.append(organization)
            rows.append(
                signing.NewSignature(
                    organization=organization,
                    role=entry.role,
                    name_as_printed=entry.line.name,
                    joined_on=entry.joined_on,
                    withdrawn_on=entry.withdrawn_on,
                    withdrawal_reason=entry.withdrawal_reason,
                )
            )
            numbers.append(entry.number)
        try:
            outcome.added = signing.add_signatures(
                statement=statement, rows=rows, reason=reason, user=user
            )
        except signing.SigningError as exc:
            raise ListError(
                [_line_error(numbers[index], message) for index, message in exc.by_row.items()]
                or exc.messages
            ) from None
    return outcome


def _new_organizations(lines: list[PastedLine], entries, reason: str, user) -> list[Organization]:
    """
    Create an organisation for each line, in bulk: named as printed without its acronym,
    with a slug of its own, and the acronym and the printed name as other names. The
    choices were checked (check_choices): the names are free.
    """
    if not lines:
        return []
    slugs = unique_slugs([line.base_name for line in lines])
    organizations, errors = [], []
    for line, slug in zip(lines, slugs, strict=True):
        organization = Organization(name=line.base_name, slug=slug, acronym=line.acronym)
        try:
            organization.clean_fields()
            organization.clean()
        except ValidationError as exc:
            errors.append(_line_error(line.number, " ".join(exc.messages)))
        organizations.append(organization)
    if errors:
        raise ListError(errors)
    bulk_create_with_history(
        organizations, Organization, default_user=user, default_change_reason=reason
    )
    other_names, numbers = [], []
    for line, organization in zip(lines, organizations, strict=True):
        names = []
        if line.acronym:
            names.append((line.acronym, OtherName.Kind.ACRONYM))
        if line.name.lower() != line.base_name.lower():
            names.append((line.name, OtherName.Kind.VARIANT))
        for name, kind in names:
            other_name = OtherName(organization=organization, name=name, kind=kind)
            try:
                other_name.clean_fields(exclude=["organization"])
                other_name.clean()
            except ValidationError as exc:
                errors.append(_line_error(line.number, " ".join(exc.messages)))
            other_names.append(other_name)
            numbers.append(line.number)
    # An other name may not be another organisation's name (OtherName.check_name_is_not_taken).
    named = dict(
        Organization.objects.filter(name_key__in={o.name_key for o in other_names})
        .exclude(pk__in=[o.pk for o in organizations])
        .order_by()
        .values_list("name_key", "name")
    )
    for other_name, number in zip(other_names, numbers, strict=True):
        if other_name.name_key in named:
            errors.append(
                _line_error(
                    number,
                    f"“{other_name.name}” is the name of another organisation "
                    f"(“{named[other_name.name_key]}”): choose it, or remove the brackets.",
                )
            )
    if errors:
        raise ListError(errors)
    bulk_create_with_history(
        other_names, OtherName, default_user=user, default_change_reason=reason
    )
    return organizations


def unique_slugs(names: list[str]) -> list[str]:
    """
    A slug for each name, numbered when taken (now, formerly, or by an earlier name of the
    list): "name", "name-2"… Two queries, however many names.
    """
    bases = [slugify(name)[:190].strip("-") or "organization" for name in names]
    pattern = "^(" + "|".join(re.escape(base) for base in set(bases)) + r")(-[0-9]+)?$"
    taken = {
        *Organization.objects.filter(slug__regex=pattern).order_by().values_list("slug", flat=True),
        *FormerSlug.objects.filter(slug__regex=pattern).order_by().values_list("slug", flat=True),
    }
    slugs = []
    for base in bases:
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        taken.add(slug)
        slugs.append(slug)
    return slugs
