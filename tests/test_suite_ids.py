"""
The suite itself: every test has an id of its own. pytest-xdist hands out tests by id, so
tests that share one run as one, and the others are silently never run.
"""

import subprocess
import sys
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_every_test_in_the_suite_has_an_id_of_its_own():
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    ids = [line for line in collected if "::" in line]
    assert len(ids) > 700, collected[-5:]
    shared = {test_id: n for test_id, n in Counter(ids).items() if n > 1}
    assert shared == {}
