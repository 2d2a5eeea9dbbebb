"""
gunicorn settings for production (`make serve`, or `gunicorn -c tracker/gunicorn.conf.py`).

Every value can be changed from the environment: PORT or GUNICORN_BIND, WEB_CONCURRENCY
(worker processes), GUNICORN_THREADS, GUNICORN_WORKER_CONNECTIONS, GUNICORN_TIMEOUT,
GUNICORN_MAX_REQUESTS (0: never
recycle workers), GUNICORN_ACCESS_LOG (a file, "-" for standard output, empty for none).
"""

import multiprocessing
import os

wsgi_app = "tracker.wsgi:application"
bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 2)
# The most connections one worker holds at once (kept-alive ones included). Without a bound
# (gunicorn's default is 1,000) the first worker to wake can take every kept-alive client
# while the others idle: a load test with 50 such clients once had one worker of four
# serving all of them. Beyond workers x this, new connections wait for a free one.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS") or 16)
# A worker whose main loop stops answering for this long is killed and replaced. With gthread
# workers that loop runs beside the request threads, so this does not bound one slow request:
# the database bounds queries (DATABASE_WEB_STATEMENT_TIMEOUT, 10 s; dead connections are
# found by TCP keepalives), and the proxy in front should bound the rest with its read timeout.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5
# Workers are replaced after this many requests (with jitter, so never all at once): any slow
# growth of a worker's memory is bounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 2000)
max_requests_jitter = max_requests // 10
# gunicorn takes no routing or scheme header from anyone. By default it trusts 127.0.0.1 (where
# a proxy connects from) to set SCRIPT_NAME, which moves the start of the path into the script
# prefix: any client whose header the proxy passes on could have /statements/ answered with
# the home page, and that answer kept for everyone. Here no peer is trusted, no header is a
# forwarder header (which also covers a UNIX socket, always trusted), and a header whose name
# has an underscore is dropped. The scheme is the app's to decide (DJANGO_BEHIND_TLS_PROXY,
# from X-Forwarded-Proto), and the client's address too (API_NUM_PROXIES, X-Forwarded-For).
forwarded_allow_ips = ""
forwarder_headers = ""
secure_scheme_headers = {}
header_map = "drop"
# Request line and headers beyond these sizes are refused (400) before Django sees them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = "info"
