"""
Django's PostgreSQL backend, with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django asks the server `SELECT 1` on the first query of every
request, to find a persistent connection the server has dropped (a restart, a failover)
before a request's query fails on it: a round trip to the database on every request, about
a tenth of a kept answer's time. A server that drops a connection closes its socket, and a
closed socket reads as ready (at its end) when the client has asked nothing: so the socket
is polled first, which takes no time, and the server is asked only if there is something to
read. A connection whose server went without closing it (a host powered off) is found by
its first query failing, as with Django's check, within the TCP keepalive and user timeouts
set in tracker/settings.py.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        if self.connection is None or self.connection.closed or self.connection.broken:
            return False
        try:
            ready, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        # Nothing to read on an idle connection: it is as the server left it.
        return True if not ready else super().is_usable()
