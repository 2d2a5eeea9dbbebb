"""
Reading and adding to the change log (statements.Change). Database triggers write nearly all
of it (statements.change_triggers); what they cannot see is said here: that an organisation was
merged into another, which only the merge service knows.

Kept answers (tracker.response_cache) are expired from the log: an answer remembers the
position the log was at before it was built (`latest`) and what it shows (`Shows`), and is
served again only while no change after that position touches what it shows (`check`). What
touches what, from the log's rows (a statement's, an organisation's or a topic's id) and the
signatures and topics as they are when checked:

- EVERYTHING (lists, search, the home page, feeds and sitemaps of many records): any change.
- STATEMENT s (its page, its API answer): a change of s, of an organisation it names (a
  signer, a media contact's or a quote's organisation) or of one of its topics.
- ORGANIZATION o (its API answer, its timeline, its feed): of o, or of a statement o signed.
- COSIGNERS o (its page, its co-signers): as ORGANIZATION o, and of an organisation that
  signed a statement o signed.
- TOPIC t (its page, its API answer, its feed): of any topic (its page names the other topics
  of its statements), or of a statement on t.

A statement's change is logged once, not for every organisation and topic that lists it, so
the rows that list it are looked up here, in one query, and only when the log has such
changes. Looking them up as they are when checked, not as they were, is enough: a signature
or topic link added, moved or removed is itself logged as its statement's change (and its
organisation's).

Positions are the log's ids, which follow the order of commits (statements.change_triggers),
so a change committed while an answer was being built has an id after the answer's position.
A position also remembers the transaction that wrote its row: a log emptied (TRUNCATE),
renumbered from an older copy (a restore) or trimmed no longer has that row, and every answer
kept at it is expired.
"""

from typing import NamedTuple

from django.db import connection, connections, router
from django.db.models import Exists, OuterRef
from django.utils import timezone

from organizations.models import Organization

from .models import Change, MediaContact, Quote, Signature, Statement, Topic

# What "this transaction" is, as the triggers count it (see Change.transaction_key).
_TRANSACTION_SQL = {
    "postgresql": "SELECT txid_current()",
    "sqlite": "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
}

EVERYTHING = "everything"
STATEMENT = "statement"
ORGANIZATION = "organization"
COSIGNERS = "cosigners"
TOPIC = "topic"
_MODELS = {STATEMENT: Statement, ORGANIZATION: Organization, COSIGNERS: Organization, TOPIC: Topic}

# More changes than this since an answer's position: it is taken as expired rather than
# checked against them all.
CHECKED_AT_MOST = 500
# An answer still current after this many changes (or a query of its signatures or topics) is
# kept again at the newest position, so that the next check reads from there.
MOVE_AFTER = 20


class Position(NamedTuple):
    """A place in the log: its last row then, by id and by the transaction that wrote it."""

    id: int
    transaction_key: int


class Shows(NamedTuple):
    """What an answer shows, for expiring it: EVERYTHING, or one record (see the table above)."""

    what: str
    object_id: int | None = None


class Check(NamedTuple):
    current: bool
    # The newest position the answer was checked up to, and whether keeping it again there
    # would save the next check much work.
    checked_to: Position | None = None
    worth_moving: bool = False


def record_merge(*, organization_id: int, slug: str, into_id: int) -> None:
    """
    Log that organisation `organization_id` (public address `slug`) was merged into
    `into_id`: its addresses now redirect there. Called by the merge service inside its
    transaction, so the entry goes, or stays, with the merge.
    """
    with connection.cursor() as cursor:
        cursor.execute(_TRANSACTION_SQL[connection.vendor])
        (transaction_id,) = cursor.fetchone()
    Change.objects.create(
        changed_at=timezone.now(),
        kind=Change.Kind.ORGANIZATION,
        object_id=organization_id,
        slug=slug,
        action=Change.Action.MERGED,
        into_id=into_id,
        transaction_key=transaction_id,
    )


def changes_since(change_id: int = 0, *, limit: int = 1000) -> list[Change]:
    """
    The changes logged after `change_id`, oldest first, at most `limit` of them. Pass the
    last id read to read on: ids follow the order the transactions committed in.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return list(Change.objects.filter(id__gt=change_id).order_by("id")[:limit])


def latest(what: str = EVERYTHING, slug: str | None = None) -> tuple[Position | None, int | None]:
    """
    The log's position now, and the id of the record `what` names at `slug` (None if there is
    none), in one query. The position is None while the log is empty: there is then nothing
    an answer could be checked against later, and nothing is kept.
    """
    rows = Change.objects.order_by("-id").values_list("id", "transaction_key")
    model = _MODELS.get(what)
    if model is not None and slug is not None:
        subject = model.objects.filter(slug=slug).order_by().values("id")[:1]
        rows = rows.annotate(subject=subject).values_list("id", "transaction_key", "subject")
    row = rows.first()
    if row is None:
        return None, None
    return Position(row[0], row[1]), (row[2] if len(row) > 2 else None)


# The rows from a position on, read for every kept answer served: plain SQL, as the ORM's
# building of the same query cost more than the query (a third of a kept answer's time).
_FROM_POSITION = (
    "SELECT id, transaction_key, kind, object_id FROM {table} WHERE id >= %s ORDER BY id LIMIT %s"
)


def _from_position(position_id: int) -> list[tuple]:
    alias = router.db_for_read(Change)
    conn = connections[alias]
    with conn.cursor() as cursor:
        cursor.execute(
            _FROM_POSITION.format(table=conn.ops.quote_name(Change._meta.db_table)),
            [position_id, CHECKED_AT_MOST + 2],
        )
        return cursor.fetchall()


def check(position: Position, shows: Shows) -> Check:
    """Whether an answer kept at `position` that shows `shows` is still current."""
    rows = _from_position(position.id)
    if not rows or (rows[0][0], rows[0][1]) != position:
        return Check(False)  # the log no longer has the position: emptied, restored, trimmed
    newer = rows[1:]
    if not newer:
        return Check(True, position)
    if len(newer) > CHECKED_AT_MOST or shows.what == EVERYTHING:
        return Check(False)
    changed = {STATEMENT: set(), ORGANIZATION: set(), TOPIC: set()}
    for _, _, kind, object_id in newer:
        changed[kind].add(object_id)
    touched, asked = _touches(shows, changed[STATEMENT], changed[ORGANIZATION], changed[TOPIC])
    if touched:
        return Check(False)
    newest = Position(newer[-1][0], newer[-1][1])
    return Check(True, newest, asked or len(newer) >= MOVE_AFTER)


def _touches(shows: Shows, statements: set, organizations: set, topics: set) -> tuple[bool, bool]:
    """Whether these changes touch what `shows` names, and whether that took a query."""
    subject = shows.object_id
    if shows.what == STATEMENT:
        if subject in statements:
            return True, False
        asked = False
        if organizations:
            asked = True
            names = (
                Exists(Signature.objects.filter(statement_id=subject, organization=OuterRef("pk")))
                | Exists(
                    MediaContact.objects.filter(statement_id=subject, organization=OuterRef("pk"))
                )
                | Exists(Quote.objects.filter(statement_id=subject, organization=OuterRef("pk")))
            )
            if Organization.objects.filter(names, pk__in=organizations).exists():
                return True, True
        if topics:
            asked = True
            links = Statement.topics.through.objects
            if links.filter(statement_id=subject, topic_id__in=topics).exists():
                return True, True
        return False, asked
    if shows.what in (ORGANIZATION, COSIGNERS):
        if subject in organizations:
            return True, False
        asked = False
        signed = Signature.objects.filter(organization_id=subject)
        if statements:
            asked = True
            if signed.filter(statement_id__in=statements).exists():
                return True, True
        if organizations and shows.what == COSIGNERS:
            asked = True
            shared = Signature.objects.filter(
                organization_id__in=organizations,
                statement_id__in=signed.values("statement_id"),
            )
            if shared.exists():
                return True, True
        return False, asked
    if shows.what == TOPIC:
        if topics:
            return True, False
        if statements:
            links = Statement.topics.through.objects
            return links.filter(topic_id=subject, statement_id__in=statements).exists(), True
        return False, False
    return bool(statements or organizations or topics), False
