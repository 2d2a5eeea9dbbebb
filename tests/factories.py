"""Small builders for test data: the fewest fields that make a valid record."""

import datetime
import itertools

from organizations.models import Organization
from statements.models import Signature, Statement, Topic

_seq = itertools.count(1)


def organization(**fields) -> Organization:
    n = next(_seq)
    fields.setdefault("name", f"Organisation {n}")
    fields.setdefault("slug", f"organisation-{n}")
    return Organization.objects.create(**fields)


def topic(**fields) -> Topic:
    n = next(_seq)
    fields.setdefault("name", f"Topic {n}")
    fields.setdefault("slug", f"topic-{n}")
    return Topic.objects.create(**fields)


def statement(signatories: int = 0, **fields) -> Statement:
    n = next(_seq)
    fields.setdefault("title", f"Statement {n}")
    fields.setdefault("slug", f"statement-{n}")
    fields.setdefault("issued_on", datetime.date(2025, 11, 12))
    fields.setdefault("status", Statement.Status.PUBLISHED)
    created = Statement.objects.create(**fields)
    for position in range(1, signatories + 1):
        Signature.objects.create(statement=created, organization=organization(), position=position)
    return created
