"""
The product as it runs in production, for tests: a scratch database of the suite's kind
(PostgreSQL when DATABASE_URL names it, else a SQLite file) with the seeds loaded, gunicorn
started as `make serve` starts it, and on PostgreSQL a TCP relay in between that a test can
cut and restore to play PostgreSQL going away and coming back.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SEEDS = ROOT / "seeds"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def suite_database_url() -> str:
    return os.environ.get("DATABASE_URL", "").strip()


def on_postgresql() -> bool:
    return suite_database_url().startswith(("postgres://", "postgresql://", "pgsql://"))


def manage(*args: str, env: dict, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        **kwargs,
    )


def base_env(database_url: str) -> dict:
    """The environment of a fresh process: none of this one's settings (nor its mark as a web
    process, which importing tracker.wsgi in a test leaves behind)."""
    skipped = ("DJANGO_", "DATABASE_", "TRACKER_", "GUNICORN_", "WEB_CONCURRENCY")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    env.update(DATABASE_URL=database_url, RESPONSE_CACHE="1")
    return env


def production_env(database_url: str, **extra) -> dict:
    env = base_env(database_url)
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_BEHIND_TLS_PROXY="1",
        DATABASE_CONNECT_TIMEOUT="2",
        **extra,
    )
    return env


class ScratchDatabase:
    """A database of its own, migrated and seeded, dropped at the end."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        if on_postgresql():
            server = suite_database_url().rsplit("/", 1)[0]
            self.name = f"tracker_production_{os.getpid()}"
            self.admin_url = f"{server}/postgres"
            self.url = f"{server}/{self.name}"
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                conn.execute(f'CREATE DATABASE "{self.name}"')
        else:
            self.url = f"sqlite:///{tmp / 'production.sqlite3'}"
        env = base_env(self.url)
        manage("migrate", "--noinput", env=env)
        manage("import_statements", str(SEEDS), env=env)

    @property
    def host_port(self) -> tuple[str, int]:
        after = self.url.split("://", 1)[1].split("@")[-1].split("/")[0]
        host, _, port = after.partition(":")
        return host or "127.0.0.1", int(port or 5432)

    def drop(self):
        if on_postgresql():
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Relay:
    """
    A TCP relay from a local port to PostgreSQL. `cut()` drops every connection through it and
    hangs up on new ones at once (PostgreSQL has gone away); `restore()` relays again. The
    port stays bound throughout, so no other process can take it meanwhile.
    """

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.refusing = False
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def restore(self):
        self.refusing = False

    def cut(self):
        self.refusing = True
        with self.lock:
            for sock in self.sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def close(self):
        self.cut()
        with suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if self.refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def fetch(url: str, *, https: bool = True, headers: dict | None = None, timeout: float = 30):
    """(status, headers, body, seconds) of a GET; redirects are not followed."""
    wanted = {"X-Forwarded-Proto": "https"} if https else {}
    wanted.update(headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    started = time.monotonic()
    try:
        with opener.open(urllib.request.Request(url, headers=wanted), timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read(), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read(), time.monotonic() - started


@contextmanager
def gunicorn(database_url: str, log: Path, **env_extra):
    """gunicorn with the product's production configuration, on a free port."""
    port = free_port()
    env = production_env(
        database_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="4",
        **env_extra,
    )
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "tracker/gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start:\n{log.read_text()[-3000:]}")
            try:
                if fetch(f"{base}/health/", https=False, timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
