"""
The shared cache: Redis through Django's own backend, made so that Redis failing never fails
a request.

Every Redis error or timeout becomes a miss (a read), a dropped write, or, for a cache given
LOCAL_FALLBACK, the same call on a local-memory cache of this process. The first failure is
logged; then this process leaves that Redis alone for RETRY_AFTER seconds (every call in the
meantime costs a clock reading), tries again on the first call after that, and logs once
more when Redis answers again. A dead or hung Redis therefore costs a request nothing, and
at most one short timeout a second for the whole process; it is used again by itself when
it is back, without a restart.

    CACHES = {"default": {
        "BACKEND": "tracker.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
        "OPTIONS": {"RETRY_AFTER": 1.0, "LOCAL_FALLBACK": True, "MAX_ENTRIES": 10_000},
    }}

MAX_ENTRIES and CULL_FREQUENCY bound the local fallback. The other OPTIONS are redis-py's
connection options, as for Django's RedisCache; connecting and each command time out after a
quarter of a second unless they say otherwise.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError, ResponseError

logger = logging.getLogger(__name__)

# The key version of the rate limit's counts (count_in_window), so that they never meet the
# lists of request times DRF's throttle kept under the same names.
WINDOW_VERSION = "window"

# Short enough that a Redis that stopped answering adds little to the one request a second
# that tries it; long enough for a Redis on the local network under load.
TIMEOUT_SECONDS = 0.25


def count_in_window(cache, key: str, duration: int) -> tuple[int, float]:
    """
    Count one request under `key` in any cache: (requests in its window so far, seconds left
    in it). A window is `duration` seconds from the first request after the last window
    ended. ResilientRedisCache counts in one round trip; other caches through get and set.
    """
    counter = getattr(cache, "count_in_window", None)
    if counter is not None:
        return counter(key, duration)
    return count_with_get_and_set(cache, key, duration)


def count_with_get_and_set(cache, key: str, duration: int) -> tuple[int, float]:
    now = time.time()
    stored = cache.get(key)
    count, ends = stored if _is_window(stored) else (0, 0.0)
    if ends <= now:
        count, ends = 0, now + duration
    count += 1
    cache.set(key, (count, ends), max(1, math.ceil(ends - now)))
    return count, ends - now


def _is_window(value) -> bool:
    return isinstance(value, tuple) and len(value) == 2


class Outage:
    """Whether one Redis (one LOCATION) is being left alone, shared by a process's threads."""

    _by_location: dict[str, Outage] = {}
    _lock = threading.Lock()

    def __init__(self, location: str):
        self.location = location
        self.down = False
        self.resting_until = 0.0
        self.lock = threading.Lock()

    @classmethod
    def of(cls, location: str) -> Outage:
        with cls._lock:
            return cls._by_location.setdefault(location, cls(location))

    def resting(self) -> bool:
        return self.down and time.monotonic() < self.resting_until

    def failed(self, error: Exception, retry_after: float) -> None:
        with self.lock:
            self.resting_until = time.monotonic() + retry_after
            if self.down:
                return
            self.down = True
        logger.warning(
            "The shared cache at %s failed (%s: %s): requests go on without it, and it is "
            "tried again every %g s until it answers.",
            self.location,
            type(error).__name__,
            error,
            retry_after,
        )

    def answered(self) -> None:
        if not self.down:
            return
        with self.lock:
            if not self.down:
                return
            self.down = False
        logger.warning("The shared cache at %s answers again: using it.", self.location)


def _redacted(location: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", location)


class KeptClientRedisCacheClient(RedisCacheClient):
    """Django's client, with one redis-py client per connection pool, made once: Django makes
    a new one for every call, about a tenth of a millisecond each, and a kept answer's
    request makes three calls. A redis-py client is safe to share between threads; this
    object is not shared anyway (Django gives each thread its own cache object)."""

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("RETRY_AFTER", 1.0))
        local_fallback = bool(options.pop("LOCAL_FALLBACK", False))
        # Bounds of the local fallback; Redis bounds itself (its maxmemory).
        local_options = {
            name: options.pop(name) for name in ("MAX_ENTRIES", "CULL_FREQUENCY") if name in options
        }
        options.setdefault("socket_connect_timeout", TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", TIMEOUT_SECONDS)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = KeptClientRedisCacheClient
        location = server if isinstance(server, str) else ",".join(server)
        self.outage = Outage.of(_redacted(location))
        # Same keys, timeouts and size bound as the shared cache; LocMemCache instances of one
        # name share their entries within the process, as the threads' cache objects should.
        self.fallback = (
            LocMemCache(f"{__name__}:{location}", {**params, "OPTIONS": local_options})
            if local_fallback
            else None
        )

    def _call(self, name: str, without_redis, *args, **kwargs):
        """RedisCache's method `name`, or `without_redis` (or the fallback's `name`) if Redis
        is being left alone or fails now."""
        if not self.outage.resting():
            try:
                result = getattr(super(), name)(*args, **kwargs)
            except RedisError as error:
                self.outage.failed(error, self.retry_after)
            else:
                self.outage.answered()
                return result
        if self.fallback is not None:
            return getattr(self.fallback, name)(*args, **kwargs)
        return without_redis() if callable(without_redis) else without_redis

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", lambda: default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", dict, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key {key!r} not found (the shared cache is unavailable).")

        return self._call("incr", missing, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # The keys that were not stored: all of them.
        return self._call("set_many", lambda: list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version)

    def clear(self):
        return self._call("clear", False)

    def count_in_window(self, key, duration: int) -> tuple[int, float]:
        """
        One more request under `key` (tracker.throttling): the count in the window, and the
        seconds left in it. A new count's window is `duration` seconds. One round trip: the
        count made with its expiry if there is none (SET NX EX), the increment and the time
        left, in one transaction (MULTI/EXEC). The count has a key of its own
        (WINDOW_VERSION), apart from the request-time lists DRF's own throttle kept under the
        same name. With Redis resting or failing, counted in the local fallback, or allowed.
        """
        if not self.outage.resting():
            name = self.make_and_validate_key(key, version=WINDOW_VERSION)
            try:
                client = self._cache.get_client(name, write=True)
                # In one transaction: otherwise the count could expire between the SET and
                # the INCR, which would then make a count that never expires.
                pipeline = client.pipeline(transaction=True)
                pipeline.set(name, 0, ex=duration, nx=True)
                pipeline.incr(name)
                pipeline.pttl(name)
                _, count, left_ms = pipeline.execute()
                if left_ms < 0:  # a count without an expiry (made some other way): give it one
                    client.expire(name, duration)
                    left_ms = duration * 1000
            except ResponseError:
                # Something else under the name (a value no increment can take): start again.
                self._call("delete", False, key, WINDOW_VERSION)
                return 1, float(duration)
            except RedisError as error:
                self.outage.failed(error, self.retry_after)
            else:
                self.outage.answered()
                return int(count), (left_ms / 1000 if left_ms > 0 else float(duration))
        if self.fallback is not None:
            return count_with_get_and_set(self.fallback, key, duration)
        return 1, float(duration)
