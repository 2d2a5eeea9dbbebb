"""
Two editors publish two statements at the same moment, each adding to their statement a
signer of the other's, in one transaction each: with one lock order for every write
(statements.derived.lock_for_write) neither deadlocks, both succeed, and what is derived
from the signatures is right afterwards. Run in real parallel threads with real commits.
"""

import threading

import pytest
from django.db import OperationalError, close_old_connections, connection, transaction

from organizations.models import Organization
from statements import derived
from statements.models import Signature, Statement
from statements.publishing import publish, unpublish

from . import factories

ROUNDS = 50

pytestmark = pytest.mark.django_db(transaction=True)


def publish_with_newcomer(statement: Statement, newcomer: Organization) -> None:
    """What the admin's save does: lock, add the signer, publish; one transaction."""
    with transaction.atomic():
        derived.lock_for_write(statement_ids=[statement.pk])
        signers = list(statement.signatures.values_list("organization_id", flat=True))
        derived.lock_for_write(organization_ids=[*signers, newcomer.pk])
        Signature.objects.create(statement=statement, organization=newcomer)
        derived.signatures_added(statement_id=statement.pk, organization_ids=[newcomer.pk])
        publish(statement=statement)


def run_together(*jobs) -> list[BaseException]:
    """Run each job in its own thread, all released at once; returns the errors raised."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait()
            job()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_two_editors_publishing_at_once_never_deadlock(settings):
    settings.COSIGNERS_KEPT_FROM = 1  # every signer's co-signing rows are written too
    shared = [factories.organization() for _ in range(4)]
    a, b = factories.organization(), factories.organization()
    deadlocks = 0
    for round_ in range(ROUNDS):
        one = factories.statement(status=Statement.Status.DRAFT)
        two = factories.statement(status=Statement.Status.DRAFT)
        factories.sign(one, a, *shared)
        factories.sign(two, b, *shared)
        errors = run_together(
            lambda one=one: publish_with_newcomer(one, b),
            lambda two=two: publish_with_newcomer(two, a),
        )
        close_old_connections()
        deadlocks += sum("deadlock" in str(error) for error in errors)
        assert errors == [], f"round {round_}: {errors}"
        assert set(
            Statement.objects.filter(pk__in=[one.pk, two.pk]).values_list("status", flat=True)
        ) == {Statement.Status.PUBLISHED}
        assert Signature.objects.filter(statement=one, organization=b).exists()
        assert Signature.objects.filter(statement=two, organization=a).exists()
        if round_ % 10 == 9:
            assert derived.check() == []
        for statement in (one, two):  # the next round starts from drafts again
            unpublish(statement=Statement.objects.get(pk=statement.pk))
    assert deadlocks == 0
    assert derived.check() == []
    assert Organization.objects.get(pk=a.pk).public_statement_count == 0


def test_a_second_writer_waits_for_the_first_instead_of_failing():
    """On SQLite too: one writer at a time, the other waits (transaction_mode IMMEDIATE)."""
    statement = factories.statement(status=Statement.Status.DRAFT)
    factories.sign(statement, factories.organization())
    held = threading.Event()

    def slow_publish():
        with transaction.atomic():
            publish(statement=Statement.objects.get(pk=statement.pk))
            held.set()
            threading.Event().wait(0.5)

    def second():
        held.wait(5)
        unpublish(statement=Statement.objects.get(pk=statement.pk))

    errors = run_together(slow_publish, second)
    close_old_connections()
    assert errors == [], errors
    assert Statement.objects.get(pk=statement.pk).status == Statement.Status.DRAFT
    assert derived.check() == []
    assert not isinstance(errors, OperationalError)
