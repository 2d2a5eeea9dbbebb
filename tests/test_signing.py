"""
Writing signatures through statements.signing: one, a list, an edit, a move, a withdrawal,
a removal; the admin's signature rows and the pasted list, in bulk. Each test ends with the
derived data (counts, co-signing) equal to a fresh computation.
"""

import datetime
import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.text import slugify

from organizations.models import Organization
from statements import derived, signatory_lists, signing
from statements.models import Signature, Statement
from statements.signing import NewSignature, SigningError

from . import factories
from .admin_forms import form_data

pytestmark = pytest.mark.django_db

ISSUED = datetime.date(2026, 1, 15)


@pytest.fixture(autouse=True)
def _every_cosigner_kept(settings):
    settings.COSIGNERS_KEPT_FROM = 1  # so that every write also changes co-signing rows


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ed", password="x", is_staff=True)


@pytest.fixture
def orgs(db):
    return [factories.organization(name=f"Group {n}") for n in range(6)]


def published(**fields):
    return factories.statement(issued_on=ISSUED, status=Statement.Status.PUBLISHED, **fields)


@pytest.fixture
def statement(orgs):
    """A public statement signed by the first three organisations."""
    statement = published()
    signing.add_signatures(
        statement=statement, rows=[NewSignature(organization=org) for org in orgs[:3]]
    )
    return statement


def count(org) -> int:
    return Organization.objects.get(pk=org.pk).public_statement_count


def snapshot():
    """Everything a refused write must leave as it was."""
    return (
        list(Signature.objects.order_by("pk").values_list()),
        list(Organization.objects.order_by("pk").values_list("pk", "public_statement_count")),
        Signature.history.count(),
    )


def test_adding_a_signature_fills_in_its_date_place_and_name_and_counts_it(orgs, user):
    statement = published()
    first = signing.add_signature(statement=statement, organization=orgs[0])
    second = signing.add_signature(
        statement=statement,
        organization=orgs[1],
        role=Signature.Role.LEAD,
        name_as_printed="  Group   One  (G1) ",
        reason="Added by hand",
        user=user,
    )
    assert (first.joined_on, first.position) == (ISSUED, 1)
    assert (second.joined_on, second.position, second.name_as_printed) == (
        ISSUED,
        2,
        "Group One (G1)",
    )
    stored = Signature.objects.get(pk=second.pk)
    assert (stored.role, stored.joined_on) == ("lead", ISSUED)
    record = stored.history.get()
    assert (record.history_type, record.history_change_reason, record.history_user) == (
        "+",
        "Added by hand",
        user,
    )
    assert count(orgs[0]) == count(orgs[1]) == 1
    assert derived.check() == []


def test_a_list_is_added_in_order_after_the_last_signature(statement, orgs):
    added = signing.add_signatures(
        statement=statement,
        rows=[
            NewSignature(organization=orgs[4], joined_on=datetime.date(2026, 2, 1)),
            NewSignature(organization=orgs[3]),
        ],
    )
    assert [(s.organization, s.position) for s in added] == [(orgs[4], 4), (orgs[3], 5)]
    assert [s.organization for s in statement.signatures.order_by("position")] == [
        *orgs[:3],
        orgs[4],
        orgs[3],
    ]
    assert Signature.objects.get(organization=orgs[4]).joined_on == datetime.date(2026, 2, 1)
    assert {count(org) for org in orgs[:5]} == {1}
    assert derived.check() == []


def test_a_draft_s_signatures_are_not_counted(orgs):
    draft = factories.statement(status=Statement.Status.DRAFT)
    signing.add_signatures(statement=draft, rows=[NewSignature(organization=orgs[0])])
    assert count(orgs[0]) == 0
    assert derived.check() == []


def round_trips(captured: CaptureQueriesContext) -> int:
    """
    The queries captured, counting one bulk INSERT as one even where Django splits it into
    batches: on SQLite it sends at most 999 parameters a query (76 history rows of a
    signature), on PostgreSQL all rows at once. A row inserted on its own still counts one.
    """
    count, previous = 0, None
    for query in captured.captured_queries:
        sql = query["sql"]
        batch = sql.split(" VALUES ", 1)[0] if sql.startswith("INSERT") and "), (" in sql else None
        if batch is None or batch != previous:
            count += 1
        previous = batch
    return count


def test_adding_a_list_costs_the_same_queries_for_5_rows_as_for_50(db):
    organizations = [factories.organization() for _ in range(55)]

    def queries(rows):
        statement = published()
        with CaptureQueriesContext(connection) as captured:
            signing.add_signatures(statement=statement, rows=rows)
        assert statement.signatures.count() == len(rows)
        return round_trips(captured)

    few = queries([NewSignature(organization=org) for org in organizations[:5]])
    many = queries([NewSignature(organization=org) for org in organizations[5:]])
    assert few == many
    assert derived.check() == []


def test_an_organisation_already_on_the_statement_is_refused_and_nothing_changes(statement, orgs):
    before = snapshot()
    with pytest.raises(SigningError) as refused:
        signing.add_signatures(
            statement=statement,
            rows=[NewSignature(organization=orgs[4]), NewSignature(organization=orgs[1])],
        )
    assert refused.value.messages == ["“Group 1” has already signed this statement."]
    assert refused.value.by_row == {1: "“Group 1” has already signed this statement."}
    assert snapshot() == before
    assert derived.check() == []


def test_an_organisation_twice_in_one_list_is_refused(statement, orgs):
    before = snapshot()
    with pytest.raises(SigningError, match="“Group 4” is on the list twice"):
        signing.add_signatures(
            statement=statement,
            rows=[NewSignature(organization=orgs[4]), NewSignature(organization=orgs[4])],
        )
    assert snapshot() == before


def test_an_unknown_organisation_is_refused(statement, orgs):
    before = snapshot()
    gone = Organization(pk=10**9, name="Gone", slug="gone")
    for organization in (gone, Organization(name="Never saved", slug="never-saved")):
        with pytest.raises(SigningError, match="The organisation does not exist"):
            signing.add_signatures(
                statement=statement,
                rows=[NewSignature(organization=orgs[4]), NewSignature(organization=organization)],
            )
    assert snapshot() == before
    assert derived.check() == []


def test_a_withdrawal_before_joining_is_refused_on_adding_and_on_withdrawing(statement, orgs):
    before = snapshot()
    with pytest.raises(SigningError, match="cannot be before the date joined"):
        signing.add_signature(
            statement=statement, organization=orgs[4], withdrawn_on=datetime.date(2026, 1, 1)
        )
    with pytest.raises(SigningError, match="a withdrawal reason needs a withdrawal date"):
        signing.add_signature(statement=statement, organization=orgs[4], withdrawal_reason="no")
    signatures = list(statement.signatures.order_by("position"))
    with pytest.raises(SigningError) as refused:
        signing.withdraw(signatures=signatures, on=datetime.date(2026, 1, 10), reason="Left")
    assert len(refused.value.messages) == 3
    assert (
        "“Group 0”: the withdrawal date (2026-01-10) cannot be before the date joined"
        in (refused.value.messages[0])
    )
    assert snapshot() == before
    assert derived.check() == []


def test_withdrawing_keeps_the_signatures_and_their_counts(statement, orgs, user):
    signatures = list(statement.signatures.order_by("position")[:2])
    signing.withdraw(
        signatures=signatures, on=datetime.date(2026, 3, 1), reason="  Changed its mind ", user=user
    )
    stored = Signature.objects.filter(pk__in=[s.pk for s in signatures])
    assert set(stored.values_list("withdrawn_on", "withdrawal_reason")) == {
        (datetime.date(2026, 3, 1), "Changed its mind")
    }
    assert statement.signatures.count() == 3
    assert count(orgs[0]) == 1
    record = signatures[0].history.first()
    assert (record.history_type, record.history_user) == ("~", user)
    assert derived.check() == []


def test_editing_a_signature_s_own_fields(statement, orgs):
    signature = statement.signatures.get(organization=orgs[2])
    signing.update_signature(
        signature=signature, role=Signature.Role.LEAD, position=1, name_as_printed=" G  2 "
    )
    stored = Signature.objects.get(pk=signature.pk)
    assert (stored.role, stored.position, stored.name_as_printed) == ("lead", 1, "G 2")
    with pytest.raises(TypeError, match="use move_signature"):
        signing.update_signature(signature=signature, organization=orgs[4])
    before = snapshot()
    with pytest.raises(SigningError):
        signing.update_signature(signature=signature, withdrawal_reason="why")
    assert snapshot() == before
    assert derived.check() == []


def test_moving_a_signature_to_another_organisation_moves_the_counts(statement, orgs):
    signature = statement.signatures.get(organization=orgs[2])
    signing.move_signature(signature=signature, organization=orgs[5])
    assert Signature.objects.get(pk=signature.pk).organization == orgs[5]
    assert (count(orgs[2]), count(orgs[5])) == (0, 1)
    assert derived.check() == []


def test_moving_a_signature_to_another_statement(statement, orgs):
    other = published(slug="other")
    signing.add_signature(statement=other, organization=orgs[4])
    draft = factories.statement(status=Statement.Status.DRAFT)
    signature = statement.signatures.get(organization=orgs[0])
    signing.move_signature(signature=signature, statement=other)
    stored = Signature.objects.get(pk=signature.pk)
    assert (stored.statement, stored.position) == (other, 2)
    assert count(orgs[0]) == 1
    signing.move_signature(signature=stored, statement=draft)
    assert count(orgs[0]) == 0
    assert derived.check() == []


def test_moving_onto_an_organisation_that_already_signed_is_refused(statement, orgs):
    signature = statement.signatures.get(organization=orgs[0])
    before = snapshot()
    with pytest.raises(SigningError, match="already signed"):
        signing.move_signature(signature=signature, organization=orgs[1])
    assert snapshot() == before
    assert derived.check() == []


def test_an_edit_giving_a_row_an_organisation_another_row_has_is_refused(statement, orgs):
    row = statement.signatures.get(organization=orgs[0])
    row.organization = orgs[1]
    before = snapshot()
    with pytest.raises(SigningError, match="“Group 1” has already signed this statement"):
        signing.save_signatures(statement=statement, changed=[row])
    assert snapshot() == before
    assert derived.check() == []


def test_removing_signatures_takes_them_out_of_the_counts(statement, orgs):
    other = published(slug="other")
    signing.add_signatures(
        statement=other, rows=[NewSignature(organization=org) for org in orgs[:2]]
    )
    signing.remove_signatures(
        signatures=[
            *statement.signatures.filter(organization__in=orgs[:2]),
            *other.signatures.all(),
        ]
    )
    assert list(statement.signatures.values_list("organization", flat=True)) == [orgs[2].pk]
    assert not other.signatures.exists()
    assert (count(orgs[0]), count(orgs[1]), count(orgs[2])) == (0, 0, 1)
    assert derived.check() == []


# --- The admin ------------------------------------------------------------------------


@pytest.fixture
def editor(client, user):
    """A superuser: only superusers delete."""
    user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


def _rows(data, prefix="signatures"):
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    return {i: data.get(f"{prefix}-{i}-organization") or "" for i in range(total)}


def test_the_statement_page_adds_changes_and_deletes_signature_rows(editor, statement, orgs):
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    data = form_data(editor.get(change).content.decode())
    rows = _rows(data)
    first = next(i for i, org in rows.items() if org == str(orgs[0].pk))
    second = next(i for i, org in rows.items() if org == str(orgs[1].pk))
    blank = next(i for i, org in rows.items() if org == "")
    data[f"signatures-{first}-DELETE"] = "on"
    data[f"signatures-{second}-organization"] = str(orgs[5].pk)
    data[f"signatures-{blank}-organization"] = str(orgs[4].pk)
    data[f"signatures-{blank}-position"] = "9"
    response = editor.post(change, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert set(statement.signatures.values_list("organization", "position")) == {
        (orgs[5].pk, 2),
        (orgs[2].pk, 3),
        (orgs[4].pk, 9),
    }
    added = statement.signatures.get(organization=orgs[4])
    assert added.joined_on == ISSUED
    assert added.history.get().history_user.username == "ed"
    assert [count(org) for org in orgs] == [0, 0, 1, 0, 1, 1]
    assert derived.check() == []


def test_saving_the_statement_page_costs_the_same_queries_for_10_signatures_as_for_60(editor):
    def queries(signatories):
        statement = factories.statement(signatories=signatories)
        change = reverse("admin:statements_statement_change", args=[statement.pk])
        data = {**form_data(editor.get(change).content.decode()), "title": "Changed"}
        with CaptureQueriesContext(connection) as captured:
            assert editor.post(change, data).status_code == 302
        return len(captured)

    assert queries(10) == queries(60)
    assert derived.check() == []


def test_a_changed_row_of_the_statement_page_is_still_checked(editor, statement, orgs):
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    data = form_data(editor.get(change).content.decode())
    rows = _rows(data)
    first = next(i for i, org in rows.items() if org == str(orgs[0].pk))
    data[f"signatures-{first}-withdrawn_on"] = "2026-01-01"
    response = editor.post(change, data)
    assert response.status_code == 200
    assert "The withdrawal date cannot be before the date joined." in response.content.decode()
    assert not Signature.objects.filter(withdrawn_on__isnull=False).exists()


def test_a_refusal_at_saving_time_is_said_and_nothing_is_saved(editor, statement, monkeypatch):
    def refused(**kwargs):
        raise SigningError("A signature was removed meanwhile.")

    monkeypatch.setattr(signing, "save_signatures", refused)
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    data = form_data(editor.get(change).content.decode())
    blank = next(i for i, org in _rows(data).items() if org == "")
    data[f"signatures-{blank}-organization"] = str(factories.organization().pk)
    data["title"] = "Changed"
    response = editor.post(change, data, follow=True)
    assert "Nothing was saved: A signature was removed meanwhile." in response.content.decode()
    statement.refresh_from_db()
    assert statement.title != "Changed"


def test_the_signature_admin_adds_changes_and_deletes_through_the_service(editor, statement, orgs):
    add = reverse("admin:statements_signature_add")
    response = editor.post(
        add,
        {
            "statement": statement.pk,
            "organization": orgs[4].pk,
            "role": "signatory",
            "position": "4",
            "name_as_printed": "",
            "joined_on": "",
            "withdrawn_on": "",
            "withdrawal_reason": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    signature = statement.signatures.get(organization=orgs[4])
    assert (signature.joined_on, count(orgs[4])) == (ISSUED, 1)

    change = reverse("admin:statements_signature_change", args=[signature.pk])
    data = form_data(editor.get(change).content.decode())
    data["organization"] = str(orgs[5].pk)
    assert editor.post(change, data).status_code == 302
    assert (count(orgs[4]), count(orgs[5])) == (0, 1)

    delete = reverse("admin:statements_signature_delete", args=[signature.pk])
    assert editor.post(delete, {"post": "yes"}).status_code == 302
    assert count(orgs[5]) == 0
    assert not Signature.objects.filter(pk=signature.pk).exists()

    changelist = reverse("admin:statements_signature_changelist")
    chosen = list(statement.signatures.values_list("pk", flat=True)[:2])
    response = editor.post(
        changelist,
        {"action": "delete_selected", "_selected_action": chosen, "post": "yes"},
    )
    assert response.status_code == 302
    assert statement.signatures.count() == 1
    assert derived.check() == []


# --- A pasted list, in bulk -----------------------------------------------------------


def _new_name(tag: str, n: int) -> str:
    """A name no other of the test's names is near (each list's new names are far apart)."""
    return f"Group {hashlib.sha256(f'{tag}{n}'.encode()).hexdigest()[:12]}"


def _list(known: list[Organization], new: int, tag: str) -> str:
    """Known organisations by name, by name and acronym or by acronym, and new ones, mixed."""
    lines = []
    for n, org in enumerate(known):
        lines.append([org.name, f"{org.name} ({org.acronym})", org.acronym][n % 3])
        if n < new:
            lines.append(f"• {_new_name(tag, n)} (G{tag}{n})")
    return "\n".join(lines)


@pytest.fixture
def known(db):
    return [
        factories.organization(name=f"Known Organisation {n:03}", acronym=f"KO{n:03}")
        for n in range(80)
    ]


def _add_list(statement, text):
    entries = signatory_lists.entries_from_text(text, role="signatory", joined_on=ISSUED)
    rows = signatory_lists.preview(statement, entries)
    choices = [row.match.organization for row in rows]
    assert signatory_lists.check_choices(statement, entries, choices) == []
    return signatory_lists.add_signatories(statement, entries, choices, reason="Pasted")


def test_a_pasted_list_costs_the_same_queries_for_10_lines_as_for_100(known):
    def queries(known_orgs, new, tag):
        statement = published(slug=f"list-{tag}")
        signing.add_signature(statement=statement, organization=known_orgs[0])  # skipped
        text = _list(known_orgs, new, tag)
        with CaptureQueriesContext(connection) as captured:
            outcome = _add_list(statement, text)
        assert len(outcome.skipped) == 1
        assert len(outcome.added) == len(known_orgs) - 1 + new
        assert len(outcome.created) == new
        return round_trips(captured)

    ten = queries(known[:7], 3, "a")
    hundred = queries(known[7:77], 30, "b")
    assert ten == hundred
    name = _new_name("b", 4)
    new = Organization.objects.get(name=name)
    assert new.acronym == "Gb4" and new.slug == slugify(name)
    assert set(new.other_names.values_list("name", "kind")) == {
        ("Gb4", "acronym"),
        (f"{name} (Gb4)", "variant"),
    }
    assert derived.check() == []


def test_confirming_a_pasted_list_costs_the_same_queries_for_10_lines_as_for_100(editor, known):
    def queries(known_orgs, new, tag):
        statement = published(slug=f"list-{tag}")
        url = reverse("admin:statements_statement_signatories", args=[statement.pk])
        text = _list(known_orgs, new, tag)
        preview = editor.post(url, {"_preview": "1", "text": text, "role": "signatory"})
        data = {**form_data(preview.content.decode()), "_confirm": "1"}
        with CaptureQueriesContext(connection) as captured:
            response = editor.post(url, data)
        assert response.status_code == 302
        assert statement.signatures.count() == len(known_orgs) + new
        return round_trips(captured)

    assert queries(known[:7], 3, "a") == queries(known[7:77], 30, "b")
    assert derived.check() == []


def test_new_organisations_of_one_list_get_slugs_of_their_own(db):
    factories.organization(name="Taken", slug="same-name")
    statement = published()
    outcome = _add_list(statement, "Same Name!\nSame Name?\nSame-Name Too")
    assert [org.slug for org in outcome.created] == ["same-name-2", "same-name-3", "same-name-too"]
    assert derived.check() == []


def test_a_new_organisation_named_as_another_s_other_name_is_refused(db):
    org = factories.organization(name="Jewish Voice for Peace")
    org.other_names.create(name="JVP Action")
    statement = published()
    text = "JVP Action"
    entries = signatory_lists.entries_from_text(text, role="signatory", joined_on=ISSUED)
    before = snapshot()
    with pytest.raises(signatory_lists.ListError, match="is an other name of"):
        signatory_lists.add_signatories(statement, entries, [None], reason="Pasted")
    assert snapshot() == before


# --- The importer -----------------------------------------------------------------------


def test_an_import_leaves_the_derived_data_exact(seeded):
    assert seeded.created["signature"] > 0
    public = Statement.objects.public()
    for organization in Organization.objects.all():
        signed = organization.signatures.filter(statement__in=public).count()
        assert organization.public_statement_count == signed
    assert derived.check() == []
