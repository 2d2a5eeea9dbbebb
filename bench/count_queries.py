"""
What each address costs to build: requests each address given on the command line, in-process
with Django's test client, on the database DATABASE_URL names, with kept answers turned off
(RESPONSE_CACHE=0), so that every request builds its answer. Counts the queries of the
second request (the first warms what a running server would have warm) and times five more.
Prints JSON: {address: {"status": ..., "queries": ..., "build_ms": median}}.
"""

import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ["RESPONSE_CACHE"] = "0"
# Static files are served from the apps' folders when collectstatic has not been run.
warnings.filterwarnings("ignore", "No directory at")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main(addresses: list[str]) -> dict:
    # As the served requests arrive: through the HTTPS proxy (DJANGO_BEHIND_TLS_PROXY).
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    counted = {}
    for address in addresses:
        client.get(address)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        # Read now: each new request empties the connection's log of queries.
        built_with = len(queries)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            client.get(address)
            times.append((time.perf_counter() - start) * 1000)
        counted[address] = {
            "status": response.status_code,
            "queries": built_with,
            "build_ms": round(statistics.median(times), 2),
        }
    return counted


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
