"""
Small builders for test data: the fewest fields that make a valid record. Signatures are
written as the product writes them, with what is derived from them (statements.derived)
brought up to date in the same step.
"""

import datetime
import itertools

from organizations.models import Organization
from statements import derived
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


def signature(**fields) -> Signature:
    """One signature (statement and organization given), counted as the services count it."""
    created = Signature.objects.create(**fields)
    derived.signatures_added(
        statement_id=created.statement_id, organization_ids=[created.organization_id]
    )
    return created


def sign(statement: Statement, *organizations: Organization, **fields) -> list[Signature]:
    """Each of `organizations` signs `statement` (same `fields` for each)."""
    return [signature(statement=statement, organization=org, **fields) for org in organizations]


def statement(signatories: int = 0, **fields) -> Statement:
    n = next(_seq)
    fields.setdefault("title", f"Statement {n}")
    fields.setdefault("slug", f"statement-{n}")
    fields.setdefault("issued_on", datetime.date(2025, 11, 12))
    fields.setdefault("status", Statement.Status.PUBLISHED)
    created = Statement.objects.create(**fields)
    for position in range(1, signatories + 1):
        signature(statement=created, organization=organization(), position=position)
    return created
