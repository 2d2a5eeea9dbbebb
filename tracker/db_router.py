"""
Reads that may come from a read replica (settings.DATABASE_REPLICA_URL).

A request is a public read when it is a GET or HEAD without a session cookie and not for the
admin: what the public and partners read, pages and the API. PublicReadMiddleware marks it so
(a context variable) when a replica is configured and answers; PrimaryReplicaRouter then
sends its ORM reads to the replica. Everything else reads from the primary ("default"): staff
(anyone with a session cookie, so staff always read their own writes), the admin and its
login, every other method, and management commands. Every write goes to the primary, and
from the first write on, the request reads from the primary too; so does anything inside a
transaction (transaction.atomic), which must see its own writes and lock what it reads.

Raw SQL run on `django.db.connection` goes to the primary; code that reads next to the ORM
uses `connections[queryset.db]` so that both come from one database.

The replica is tried when a public read begins (its connection's health check, which a
request makes anyway). When it cannot be reached the request reads from the primary, and so
does every request of this process for the next RETRY_SECONDS, before the replica is tried
again: the primary has every row the replica has, and newer ones, so a reader sees no older
data than the replica would have shown, and no error. A replica that fails in the middle of
a request makes that request a 503 (tracker.errors), and the next one reads from the primary.
"""

import logging
import time
from contextvars import ContextVar

from django.conf import settings
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA = "replica"
# How long a process reads from the primary after the replica could not be reached.
RETRY_SECONDS = 10.0
# Paths no public read takes: the admin (with its login page) is staff's.
STAFF_PATHS = ("/admin/",)

logger = logging.getLogger(__name__)

_public_read: ContextVar[bool] = ContextVar("public_read", default=False)
_replica_failed_at: float | None = None


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def is_public_read() -> bool:
    return _public_read.get()


def public_read_request(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and not request.path_info.startswith(STAFF_PATHS)
    )


def replica_available() -> bool:
    """Whether the replica answers (its connection open and healthy), remembering a failure
    for RETRY_SECONDS so that an unreachable replica costs at most one try per interval."""
    global _replica_failed_at
    if _replica_failed_at is not None and time.monotonic() - _replica_failed_at < RETRY_SECONDS:
        return False
    replica = connections[REPLICA]
    try:
        replica.close_if_health_check_failed()
        replica.ensure_connection()
    except DatabaseError as exc:
        if _replica_failed_at is None:
            logger.warning("The read replica cannot be reached; reading from the primary: %s", exc)
        _replica_failed_at = time.monotonic()
        replica.close()
        return False
    if _replica_failed_at is not None:
        logger.warning("The read replica answers again; public reads go to it.")
        _replica_failed_at = None
    return True


def _end_public_read(**kwargs) -> None:
    _public_read.set(False)


# A response's body may be read from the database after the middleware has returned (a
# streamed CSV download): the request ends when the server closes the response.
request_finished.connect(_end_public_read, dispatch_uid="tracker.db_router.end_public_read")


class PublicReadMiddleware:
    """Marks a public read (see above), from before any view or kept answer reads data until
    the response is closed. Does nothing without a replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _public_read.set(
            replica_configured() and public_read_request(request) and replica_available()
        )
        return self.get_response(request)


class PrimaryReplicaRouter:
    """Reads of a public read from the replica; everything else, and every write, from the
    primary. Without a replica, is_public_read() is never true and all goes to "default"."""

    def db_for_read(self, model, **hints):
        if not _public_read.get():
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        instance = hints.get("instance")
        if instance is not None and instance._state.db == DEFAULT_DB_ALIAS:
            return DEFAULT_DB_ALIAS  # what a row read from the primary leads to
        return REPLICA

    def db_for_write(self, model, **hints):
        # The rest of the request reads what it wrote.
        _public_read.set(False)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # A row read from the replica may point at one read from the primary: one database.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica copies the primary's schema; nothing is ever migrated on it.
        return db != REPLICA
