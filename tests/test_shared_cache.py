"""
The shared cache (tracker.cache, REDIS_URL): kept answers and the API's rate limit shared by
every worker and instance, and Redis failing never failing a request.

The backend's tests run a redis-server of their own; the instances' tests run two gunicorn
instances on one PostgreSQL scratch database and one such Redis, which they kill and start
again. Nothing here touches a Redis the machine already runs.
"""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import redis
from django.test import Client
from rest_framework.throttling import AnonRateThrottle

from tracker.cache import ResilientRedisCache, count_in_window

from .production import (
    ROOT,
    RedisServer,
    ScratchDatabase,
    fetch,
    free_port,
    gunicorn,
    manage,
    on_postgresql,
    post_login,
    production_env,
    redis_server_binary,
)

needs_redis = pytest.mark.skipif(
    redis_server_binary() is None,
    reason="needs redis-server (Debian's redis-server package; .ci/run installs it)",
)
JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"


def load_caches(**env):
    """settings.CACHES, as a process started with `env` reads it."""
    skipped = ("DJANGO_", "DATABASE_", "REDIS_URL", "CACHE_KEY_PREFIX")
    base = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    base.update(env)
    code = "import json, tracker.settings as s; print(json.dumps(s.CACHES))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True
    )


def caches_of(**env) -> dict:
    result = load_caches(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- Settings -------------------------------------------------------------------------------


def test_without_redis_url_each_worker_keeps_its_cache_in_memory():
    caches = caches_of()
    assert {alias: c["BACKEND"] for alias, c in caches.items()} == {
        "default": "django.core.cache.backends.locmem.LocMemCache",
        "responses": "django.core.cache.backends.locmem.LocMemCache",
    }


def test_with_redis_url_both_caches_are_that_redis_under_the_deployments_prefix():
    one = "postgres://u:secret@db.example:5432/tracker"
    caches = caches_of(REDIS_URL="redis://cache.example:6380/2", DATABASE_URL=one)
    assert {c["BACKEND"] for c in caches.values()} == {"tracker.cache.ResilientRedisCache"}
    assert {c["LOCATION"] for c in caches.values()} == {"redis://cache.example:6380/2"}
    prefix = caches["default"]["KEY_PREFIX"]
    assert caches["responses"]["KEY_PREFIX"] == f"{prefix}:responses"
    # Instances of one deployment (one database) share keys, whatever their credentials;
    # another deployment on the same Redis has keys of its own, unless told otherwise.
    same = caches_of(
        REDIS_URL="redis://cache.example:6380/2", DATABASE_URL=one.replace("u:s", "v:s")
    )
    other = caches_of(REDIS_URL="redis://cache.example:6380/2", DATABASE_URL=one + "_staging")
    assert same["default"]["KEY_PREFIX"] == prefix
    assert other["default"]["KEY_PREFIX"] != prefix
    chosen = caches_of(REDIS_URL="redis://cache.example/0", CACHE_KEY_PREFIX="staging")
    assert chosen["default"]["KEY_PREFIX"] == "staging"
    assert "secret" not in prefix


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_URL": "http://cache.example/"}, "REDIS_URL='http://cache.example/' is not a"),
        ({"REDIS_URL": "cache.example:6379"}, "is not a Redis URL"),
        ({"REDIS_URL": "redis://cache.example:99999/0"}, "is malformed"),
        ({"REDIS_URL": "redis://cache.example:6379/zero"}, "database number"),
        ({"REDIS_URL": "redis://:hunter2@cache.example:x/0"}, "REDIS_URL='redis://:***@"),
        ({"CACHE_KEY_PREFIX": "two words"}, "CACHE_KEY_PREFIX='two words' is malformed"),
    ],
)
def test_a_malformed_cache_setting_stops_start_up_with_a_clear_message(env, message):
    result = load_caches(**env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "hunter2" not in result.stderr


# --- The backend, against a redis-server of the test's own -----------------------------------


@pytest.fixture
def redis_server(tmp_path):
    if redis_server_binary() is None:
        pytest.skip("needs redis-server (Debian's redis-server package; .ci/run installs it)")
    server = RedisServer(tmp_path)
    yield server
    server.close()


def shared_cache(location: str, **options) -> ResilientRedisCache:
    """A cache object as one worker's thread has it; RETRY_AFTER short, to keep tests short."""
    options.setdefault("RETRY_AFTER", 0.3)
    return ResilientRedisCache(location, {"KEY_PREFIX": "test", "OPTIONS": options})


@pytest.fixture
def outage_log(caplog):
    caplog.set_level(logging.WARNING, logger="tracker.cache")

    def messages() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "tracker.cache"]

    return messages


def test_what_one_process_keeps_another_reads_and_prefixes_keep_deployments_apart(redis_server):
    one, other = shared_cache(redis_server.url), shared_cache(redis_server.url)
    one.set("answer", (b"<html>", {"content-type": "text/html"}), 60)
    assert other.get("answer") == (b"<html>", {"content-type": "text/html"})
    staging = ResilientRedisCache(redis_server.url, {"KEY_PREFIX": "staging"})
    assert staging.get("answer") is None
    staging.set("answer", "staging's", 60)
    assert other.get("answer") == (b"<html>", {"content-type": "text/html"})


def test_a_dead_redis_is_a_miss_and_a_dropped_write_logged_once(redis_server, outage_log):
    cache = shared_cache(redis_server.url, RETRY_AFTER=60)
    cache.set("kept", "before", 60)
    redis_server.kill()
    started = time.monotonic()
    for n in range(200):
        assert cache.get("kept") is None
        assert cache.get("kept", "default") == "default"
        cache.set(f"new-{n}", "value", 60)
        assert cache.add("added", 1) is False
        assert cache.get_many(["kept", "new-0"]) == {}
        assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
        cache.delete("kept")
    assert time.monotonic() - started < 1.0
    with pytest.raises(ValueError, match="not found"):
        cache.incr("counter")
    [message] = outage_log()
    assert f"127.0.0.1:{redis_server.port}" in message and "failed" in message


def test_a_hung_redis_costs_one_short_timeout_a_second_not_one_per_request(outage_log):
    # A server that accepts connections and never answers: every command would wait for its
    # socket timeout, a quarter of a second, if the cache kept trying.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        cache = shared_cache(f"redis://127.0.0.1:{listener.getsockname()[1]}/0", RETRY_AFTER=1)
        started = time.monotonic()
        assert cache.get("key") is None  # waits for the timeout once
        first = time.monotonic() - started
        assert 0.2 <= first < 1.0
        for _ in range(100):
            assert cache.get("key") is None
            cache.set("key", "value")
        assert time.monotonic() - started < first + 0.2  # the rest cost nothing
        time.sleep(1.0)
        again = time.monotonic()
        assert cache.get("key") is None  # tried once more after the back-off
        assert time.monotonic() - again >= 0.2
        assert len(outage_log()) == 1
    finally:
        listener.close()
        for sock in accepted:
            sock.close()


def test_redis_back_on_its_port_is_used_again_by_itself(redis_server, outage_log):
    cache = shared_cache(redis_server.url)
    redis_server.kill()
    cache.set("key", "dropped", 60)
    redis_server.start()
    time.sleep(0.4)  # RETRY_AFTER
    assert cache.get("key") is None  # the write made while it was down was dropped
    cache.set("key", "kept", 60)
    assert cache.get("key") == "kept"
    assert shared_cache(redis_server.url).get("key") == "kept"
    failed, back = outage_log()
    assert "failed" in failed and "answers again" in back


def test_while_redis_is_down_the_rate_limit_is_counted_in_the_workers_memory(
    api, seeded, settings, monkeypatch, outage_log
):
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/minute", raising=False)
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "tracker.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens
            "OPTIONS": {"LOCAL_FALLBACK": True, "RETRY_AFTER": 60},
        },
    }
    statuses = [api.get("/api/v1/statements/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert len(outage_log()) == 1


def windows_of(cache, duration=1) -> list[tuple[int, bool]]:
    """Three requests, a wait past the window, one more: each count, and whether the time left
    is within the window."""
    seen = []
    for _ in range(3):
        count, left = count_in_window(cache, "throttle_anon_203.0.113.9", duration)
        seen.append((count, 0 < left <= duration))
    time.sleep(duration + 0.1)
    count, left = count_in_window(cache, "throttle_anon_203.0.113.9", duration)
    return [*seen, (count, 0 < left <= duration)]


def test_a_clients_requests_are_counted_in_windows_in_redis_and_in_memory(redis_server):
    """One round trip to Redis, or get and set in local memory: the same windows."""
    from django.core.cache.backends.locmem import LocMemCache

    expected = [(1, True), (2, True), (3, True), (1, True)]
    assert windows_of(shared_cache(redis_server.url)) == expected
    assert windows_of(LocMemCache("windows", {})) == expected
    # The counts are shared: another process's cache object counts on.
    one, two = shared_cache(redis_server.url), shared_cache(redis_server.url)
    assert count_in_window(one, "throttle_anon_198.51.100.1", 60)[0] == 1
    assert count_in_window(two, "throttle_anon_198.51.100.1", 60)[0] == 2
    # The lists of request times DRF's own throttle kept under the same name are left alone,
    # and a count that is no number is started again, with Redis still in use.
    drf = shared_cache(redis_server.url)
    drf.set("throttle_anon_198.51.100.2", [1.0, 2.0], 60)
    assert count_in_window(drf, "throttle_anon_198.51.100.2", 60)[0] == 1
    assert drf.get("throttle_anon_198.51.100.2") == [1.0, 2.0]
    drf.set("throttle_anon_198.51.100.3", "no number", 60, version="window")
    assert [count_in_window(drf, "throttle_anon_198.51.100.3", 60)[0] for _ in range(3)] == [
        1,
        1,  # the count started again from here
        2,
    ]
    assert not drf.outage.down
    # A count left without an expiry (which would throttle its client for ever) gets one.
    drf.set("throttle_anon_198.51.100.4", 7, None, version="window")
    count, left = count_in_window(drf, "throttle_anon_198.51.100.4", 60)
    assert (count, 0 < left <= 60) == (8, True)
    raw = redis.Redis.from_url(redis_server.url)
    assert 0 < raw.pttl(drf.make_key("throttle_anon_198.51.100.4", version="window")) <= 60_000
    # Redis down: counted in the worker's memory, then in Redis again once it is back.
    fallback = shared_cache(redis_server.url, LOCAL_FALLBACK=True)
    redis_server.kill()
    assert [count_in_window(fallback, "throttle_anon_192.0.2.1", 60)[0] for _ in range(2)] == [1, 2]
    redis_server.start()
    time.sleep(0.4)  # RETRY_AFTER
    assert count_in_window(fallback, "throttle_anon_192.0.2.1", 60)[0] == 1


def test_counts_under_load_across_window_ends_always_expire(redis_server):
    """Many processes counting one client across the ends of one-second windows: its count
    always has an expiry, so no client is throttled for ever (as a count made by the
    increment alone, after the window ended between two commands, would be)."""
    caches_ = [shared_cache(redis_server.url) for _ in range(4)]
    raw = redis.Redis.from_url(redis_server.url)
    name = caches_[0].make_key("throttle_anon_203.0.113.50", version="window")
    until = time.monotonic() + 2.5
    seen = []

    def count(cache):
        while time.monotonic() < until:
            seen.append(count_in_window(cache, "throttle_anon_203.0.113.50", 1)[0])

    threads = [threading.Thread(target=count, args=(cache,)) for cache in caches_]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert raw.pttl(name) in range(-2, 1001) and raw.pttl(name) != -1
    assert max(seen) < len(seen)  # the count started again at each window


# --- The X-Cache header ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_x_cache_says_whether_an_answer_was_kept_or_built(seeded, settings, django_user_model):
    settings.RESPONSE_CACHE = True
    client = Client()
    for url in (f"/statements/{JOINT}/", f"/api/v1/statements/{JOINT}/", "/api/v1/topics/"):
        assert client.get(url).headers["X-Cache"] == "miss", url
        second = client.get(url)
        assert second.status_code == 200
        assert second.headers["X-Cache"] == "hit", url
    # What is never kept says nothing: a CSV download, staff, anything with RESPONSE_CACHE off.
    assert "X-Cache" not in client.get("/api/v1/topics/?format=csv").headers
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("staff", "s@example.org", "pw"))
    assert "X-Cache" not in staff.get(f"/statements/{JOINT}/").headers
    settings.RESPONSE_CACHE = False
    assert "X-Cache" not in client.get("/api/v1/topics/").headers


# --- Two instances, one PostgreSQL, one Redis --------------------------------------------------

two_instances = pytest.mark.skipif(
    not on_postgresql(),
    reason="two instances share one database server: PostgreSQL (set DATABASE_URL)",
)
# The public name both instances answer to, as behind a load balancer: kept answers are kept
# under the host they were asked for.
HOST = {"Host": "localhost"}
RATE = 20


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """One scratch database, one Redis, a reader's API token and a staff login."""
    tmp = tmp_path_factory.mktemp("shared-cache")
    database = ScratchDatabase(tmp, label="shared_cache")
    server = RedisServer(tmp)
    env = production_env(database.url, DJANGO_SUPERUSER_PASSWORD="a-long-staff-password-42")
    manage("createsuperuser", "--noinput", "--username=target", "--email=t@example.org", env=env)
    script = (
        "from django.contrib.auth.models import User; "
        "from rest_framework.authtoken.models import Token; "
        "print(Token.objects.create(user=User.objects.create_user('reader')).key)"
    )
    token = manage("shell", "-c", script, env=env).stdout.split()[-1]
    yield database, server, {"Authorization": f"Token {token}", **HOST}
    server.close()
    database.drop()


@pytest.fixture(scope="module")
def instances(deployment, tmp_path_factory):
    database, server, _ = deployment
    logs = [tmp_path_factory.mktemp("instance") / "gunicorn.log" for _ in range(2)]
    env = {"REDIS_URL": server.url, "API_ANON_RATE": f"{RATE}/minute"}
    with (
        gunicorn(database.url, logs[0], **env) as one,
        gunicorn(database.url, logs[1], **env) as two,
    ):
        yield one, two, logs


@pytest.fixture
def reader(deployment):
    """The headers of a partner with a token, whom the rate limit does not count."""
    return deployment[2]


@pytest.mark.parametrize("path", [f"/statements/{JOINT}/", "/api/v1/organizations/?q=ANCA"])
@two_instances
@needs_redis
def test_an_answer_built_by_one_instance_is_served_by_the_other(instances, reader, path):
    one, two, _ = instances
    built = fetch(one + path, headers=reader)
    kept = fetch(two + path, headers=reader)
    assert built[0] == kept[0] == 200
    assert (built[1]["X-Cache"], kept[1]["X-Cache"]) == ("miss", "hit")
    assert kept[2] == built[2]
    assert fetch(one + path, headers=reader)[1]["X-Cache"] == "hit"


@two_instances
@needs_redis
def test_the_anonymous_rate_limit_counts_across_both_instances(instances, deployment):
    one, two, _ = instances
    client = redis.Redis.from_url(deployment[1].url)
    for key in client.scan_iter("*throttle_anon_*"):
        client.delete(key)
    statuses = [fetch(f"{(one, two)[n % 2]}/api/v1/topics/", headers=HOST)[0] for n in range(RATE)]
    assert statuses == [200] * RATE
    for base in (one, two):
        status, headers, body, _ = fetch(f"{base}/api/v1/topics/", headers=HOST)
        assert status == 429, base
        assert int(headers["Retry-After"]) > 0 and b"throttled" in body


@two_instances
@needs_redis
def test_a_lockout_on_one_instance_holds_on_the_other_and_outlives_redis(instances, deployment):
    one, two, _ = instances
    statuses = [post_login(one, "target", f"guess-{n}")[0] for n in range(4)]
    statuses.append(post_login(two, "target", "guess-4")[0])
    assert statuses == [200, 200, 200, 200, 429]
    assert post_login(one, "target", "a-long-staff-password-42")[0] == 429
    # The attempts are in the database, not in Redis: Redis losing everything frees no one.
    deployment[1].kill()
    deployment[1].start()
    for base in (one, two):
        assert post_login(base, "target", "a-long-staff-password-42")[0] == 429


class Load:
    """A thread sending requests to both instances in turn until stopped: what came back."""

    PATHS = [
        "/",
        "/statements/",
        f"/statements/{JOINT}/",
        "/organizations/",
        f"/api/v1/statements/{JOINT}/",
        "/api/v1/statements/",
        "/api/v1/organizations/armenian-national-committee-of-america/cosigners/",
    ]

    def __init__(self, bases, headers):
        self.bases, self.headers = bases, headers
        self.answers: list[tuple[float, int, str]] = []  # (time.monotonic(), status, X-Cache)
        self.errors: list[str] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=60)

    def _run(self):
        n = 0
        while not self.stopped.is_set():
            url = self.bases[n % 2] + self.PATHS[n % len(self.PATHS)]
            n += 1
            try:
                status, headers, _, _ = fetch(url, headers=self.headers, timeout=10)
            except Exception as exc:  # a connection refused or reset, a timeout: all failures
                self.errors.append(f"{url}: {exc!r}")
                continue
            self.answers.append((time.monotonic(), status, headers.get("X-Cache", "")))

    def between(self, start: float, end: float) -> list[tuple[int, str]]:
        return [(status, kept) for at, status, kept in self.answers if start <= at < end]


@two_instances
@needs_redis
def test_killing_redis_mid_load_builds_answers_and_sharing_comes_back_by_itself(
    instances, deployment, reader
):
    one, two, logs = instances
    server = deployment[1]
    with Load((one, two), reader) as load:
        time.sleep(1.5)
        server.kill()
        killed = time.monotonic()
        time.sleep(3)
        # The anonymous rate limit still holds, counted by each worker alone: 20 a worker.
        anonymous = [fetch(f"{one}/api/v1/topics/", headers=HOST)[0] for _ in range(2 * RATE + 1)]
        server.start()
        restarted = time.monotonic()
        time.sleep(3)
    assert load.errors == []
    statuses = {status for _, status, _ in load.answers}
    assert statuses == {200}, statuses
    # While Redis was gone (after two seconds for requests under way), every answer was built.
    during = load.between(killed + 2, restarted)
    assert during and {kept for _, kept in during} == {"miss"}
    assert set(anonymous) == {200, 429} and anonymous.count(200) <= 2 * RATE
    # Once it was back (after the back-off), answers were kept and served again.
    after = load.between(restarted + 1.5, time.monotonic())
    assert "hit" in {kept for _, kept in after}, after
    path = "/api/v1/topics/?page_size=3"
    assert fetch(one + path, headers=reader)[1]["X-Cache"] == "miss"
    assert fetch(two + path, headers=reader)[1]["X-Cache"] == "hit"
    # Each worker that met the outage said so once, and once that Redis was back.
    text = "".join(log.read_text() for log in logs)
    failed, back = text.count(f"{server.port}/0 failed ("), text.count("answers again")
    # Two kills (the lockout's test made the first), two instances of two workers each.
    assert 1 <= failed <= 8 and 1 <= back <= failed, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
