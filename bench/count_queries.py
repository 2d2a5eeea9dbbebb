"""
How many SQL queries each address costs: requests each address given on the command line
twice, in-process with Django's test client, on the database DATABASE_URL names, and counts
the queries of the second request (the first warms caches, as a running server would have).
Prints JSON: {address: {"status": ..., "queries": ...}}.
"""

import json
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
# Static files are served from the apps' folders when collectstatic has not been run.
warnings.filterwarnings("ignore", "No directory at")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main(addresses: list[str]) -> dict:
    client = Client(HTTP_HOST="127.0.0.1")
    counted = {}
    for address in addresses:
        client.get(address)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        counted[address] = {"status": response.status_code, "queries": len(queries)}
    return counted


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
