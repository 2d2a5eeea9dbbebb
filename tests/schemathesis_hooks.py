"""
What schemathesis needs to know about this API that a schema cannot say: which slugs exist.
A well-formed but unknown slug is a 400 in a filter (and a 404 in the path) by design, so the
requests schemathesis means to be valid name records of the seed data in their filters; the
others are sent as it made them.

Imported by tests/test_api_schema.py. For a run against a server with the seed data loaded
(`make run`, with `API_ANON_RATE=1000000/minute` so that the rate limit stays out of it):

    SCHEMATHESIS_HOOKS=tests.schemathesis_hooks .venv/bin/st run --checks all \\
        'http://127.0.0.1:8000/api/v1/schema/?format=json'
"""

import schemathesis

SLUG_FILTERS = {
    "signed": "2025-11-12-azerbaijan-isf-gaza-joint-statement",
    "statement": "2025-11-12-azerbaijan-isf-gaza-joint-statement",
    "cosigned_with": "churches-for-middle-east-peace",
    "led_by": "armenian-national-committee-of-america",
    "organization": "dawn",
    "signed_by": "uscpr-action",
    "topic": "gaza",
}


@schemathesis.hook
def before_call(context, case, **kwargs):
    if case.meta is None or not case.meta.generation.mode.is_positive or not case.query:
        return
    for name, slug in SLUG_FILTERS.items():
        if name in case.query:
            case.query[name] = [slug] if isinstance(case.query[name], list) else slug
