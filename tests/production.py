"""
The product as it runs in production, for tests: a scratch database of the suite's kind
(PostgreSQL when DATABASE_URL names it, else a SQLite file) with the seeds loaded, gunicorn
started as `make serve` starts it, and on PostgreSQL a TCP relay in between that a test can
cut and restore to play PostgreSQL going away and coming back. In front of gunicorn, nginx
with the shipped site file (deploy/nginx.conf), and clients that send their requests a byte
at a time.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
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
    skipped = (
        "DJANGO_",
        "DATABASE_",
        "TRACKER_",
        "GUNICORN_",
        "WEB_CONCURRENCY",
        "REDIS_URL",
        "CACHE_KEY_PREFIX",
    )
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


def stop(process: subprocess.Popen) -> None:
    """Stop a server the tests started: gently, then for good after 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def migrate_and_seed(database_url: str) -> None:
    """Migrate the (empty) database and load the seeds into it."""
    env = base_env(database_url)
    manage("migrate", "--noinput", env=env)
    manage("import_statements", str(SEEDS), env=env)


class ScratchDatabase:
    """A database of its own, migrated and seeded, dropped at the end."""

    def __init__(self, tmp: Path, label: str = "production"):
        self.tmp = tmp
        if on_postgresql():
            server = suite_database_url().rsplit("/", 1)[0]
            self.name = f"tracker_{label}_{os.getpid()}"
            self.admin_url = f"{server}/postgres"
            self.url = f"{server}/{self.name}"
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                conn.execute(f'CREATE DATABASE "{self.name}"')
        else:
            self.url = f"sqlite:///{tmp / 'production.sqlite3'}"
        migrate_and_seed(self.url)

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


def fetch(
    url: str,
    *,
    https: bool = True,
    headers: dict | None = None,
    timeout: float = 30,
    context: ssl.SSLContext | None = None,
    data: bytes | None = None,
):
    """
    (status, headers, body, seconds) of a GET, or of a POST of `data`; redirects are not
    followed. `https` says X-Forwarded-Proto: https, as the proxy in front would; `context`
    checks an https server.
    """
    wanted = {"X-Forwarded-Proto": "https"} if https else {}
    wanted.update(headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=context))
    started = time.monotonic()
    try:
        request = urllib.request.Request(url, headers=wanted, data=data)
        with opener.open(request, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read(), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read(), time.monotonic() - started


def post_login(base: str, username: str, password: str):
    """
    (status, headers) of the admin login form, as a browser behind the HTTPS proxy posts it:
    its CSRF cookie (sent by hand, as the cookie is Secure and this socket is plain HTTP),
    token and Referer.
    """
    secure_base = base.replace("http:", "https:", 1)
    headers = {"X-Forwarded-Proto": "https", "Referer": f"{secure_base}/admin/login/"}
    _, page_headers, page, _ = fetch(f"{base}/admin/login/")
    cookie = page_headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.decode(), "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(
        f"{base}/admin/login/?next=/admin/", form, {**headers, "Cookie": cookie}
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


def redis_server_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (path for path in ("/usr/bin/redis-server",) if Path(path).exists()), None
    )


class RedisServer:
    """
    A redis-server of the test's own on a free port of 127.0.0.1, keeping nothing on disk.
    `kill()` ends it as a crash would (everything it held is lost); `start()` starts a fresh
    one on the same port.
    """

    def __init__(self, directory: Path):
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install redis)")
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        log = self.directory / "redis.log"
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        with log.open("ab") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    close = kill


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
        stop(process)


NGINX_SITE = ROOT / "deploy" / "nginx.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None
    )


class Proxy:
    """nginx as started by nginx(): its HTTPS and plain HTTP ports, and a TLS context that
    trusts its certificate."""

    def __init__(self, port: int, plain_port: int, context: ssl.SSLContext):
        self.port = port
        self.plain_port = plain_port
        self.context = context
        self.base = f"https://127.0.0.1:{port}"


def site_config(upstream_port: int, port: int, plain_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx.conf as shipped, but for its addresses and certificate."""
    text = NGINX_SITE.read_text()
    for shipped, here in [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("listen 80;", f"listen 127.0.0.1:{plain_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;"),
        (
            "ssl_certificate /etc/letsencrypt/live/tracker.example.org/fullchain.pem;",
            f"ssl_certificate {cert};",
        ),
        (
            "ssl_certificate_key /etc/letsencrypt/live/tracker.example.org/privkey.pem;",
            f"ssl_certificate_key {key};",
        ),
    ]:
        if text.count(shipped) != 1:
            raise RuntimeError(f"{NGINX_SITE} no longer has `{shipped}` once")
        text = text.replace(shipped, here)
    return text


@contextmanager
def nginx(upstream: str, directory: Path):
    """
    nginx (not as a daemon, everything under `directory`) with the shipped site file in front
    of `upstream` (http://127.0.0.1:PORT), on free ports of 127.0.0.1: yields a Proxy.
    """
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (Debian: apt-get install -y -q nginx)")
    cert, key = directory / "cert.pem", directory / "key.pem"
    openssl = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
    ]
    openssl += ["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    openssl += ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(openssl, check=True, capture_output=True)
    port, plain_port = free_port(), free_port()
    upstream_port = int(upstream.rsplit(":", 1)[1])
    (directory / "site.conf").write_text(site_config(upstream_port, port, plain_port, cert, key))
    temp = {name: directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    (directory / "nginx.conf").write_text(
        f"""worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {directory}/site.conf;
}}
"""
    )
    command = [binary, "-p", str(directory), "-c", str(directory / "nginx.conf")]
    command += ["-e", str(directory / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx refused its configuration:\n{checked.stderr}")
    process = subprocess.Popen(
        [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log = (directory / "error.log").read_text()[-3000:]
                raise RuntimeError(f"nginx stopped at start:\n{log}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not listen") from None
                time.sleep(0.1)
        yield Proxy(port, plain_port, ssl.create_default_context(cafile=str(cert)))
    finally:
        stop(process)


class SlowClients:
    """
    `count` clients that each open a connection (over TLS with `context`) and send a request's
    headers a byte every `interval` seconds, never finishing them, until stopped or until the
    server hangs up. With `body`, the headers go at once (a form post to the admin login) and
    the body a byte at a time. Used as a block: stopped and joined at its end.
    """

    HEAD = (
        b"GET /statements/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
        b"User-Agent: a-byte-at-a-time\r\nX-Padding: " + b"x" * 4000
    )
    FORM = (
        b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
        b"User-Agent: a-byte-at-a-time\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n"
    )

    def __init__(self, port: int, count: int = 32, interval: float = 1.5, context=None, body=False):
        self.port = port
        self.interval = interval
        self.context = context
        self.at_once, self.dribbled = (self.FORM, b"x" * 4000) if body else (b"", self.HEAD)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.connected = 0
        self.first_connected: float | None = None  # time.monotonic()
        self.errors: list[str] = []
        # Seconds from connecting until the server hung up, for each client it hung up on.
        self.hung_up_after: list[float] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)

    @property
    def open(self) -> int:
        with self.lock:
            return self.connected - len(self.hung_up_after)

    def wait_connected(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.connected + len(self.errors) == len(self.threads):
                    return not self.errors
            time.sleep(0.05)
        return False

    def wait_hung_up(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open == 0:
                return True
            time.sleep(0.1)
        return False

    def _run(self):
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_hostname="127.0.0.1")
            sock.settimeout(self.interval)
        except OSError as exc:
            with self.lock:
                self.errors.append(repr(exc))
            return
        started = time.monotonic()
        with self.lock:
            self.connected += 1
            if self.first_connected is None:
                self.first_connected = started
        try:
            if self._dribble(sock):
                with self.lock:
                    self.hung_up_after.append(time.monotonic() - started)
        finally:
            with suppress(OSError):
                sock.close()

    def _dribble(self, sock) -> bool:
        """Send the request a byte at a time: whether the server hung up meanwhile."""
        try:
            sock.sendall(self.at_once)
            for index in range(len(self.dribbled)):
                if self.stop.is_set():
                    return False
                sock.sendall(self.dribbled[index : index + 1])
                try:
                    # An answer (408) or the end of the connection, or the next byte's time.
                    sock.recv(65536)
                    return True
                except TimeoutError:
                    continue
        except OSError:
            return True
        return False
