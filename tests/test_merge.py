"""
One organisation, one record: staff find likely duplicates, merge two records into one, and
the merged record's old addresses redirect to the one kept.
"""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organizations.duplicates import find_duplicates
from organizations.models import FormerSlug, Organization, OtherName
from statements import derived, publishing, withholding
from statements.importing import import_paths
from statements.merging import merge_organizations, merge_reason
from statements.models import MediaContact, Quote, Signature, Statement, Withholding
from statements.publishing import publish

from . import factories
from .admin_forms import form_data

pytestmark = pytest.mark.django_db

MERGE = reverse("admin:organizations_organization_merge")
DUPLICATES = reverse("admin:organizations_organization_duplicates")
CHANGELIST = reverse("admin:organizations_organization_changelist")
JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"


@pytest.fixture
def anca(seeded):
    return Organization.objects.get(slug="armenian-national-committee-of-america")


@pytest.fixture
def cmep(seeded):
    return Organization.objects.get(slug="churches-for-middle-east-peace")


@pytest.fixture
def duplicate(seeded):
    """
    A second record of CMEP, entered by mistake: it signed a statement of its own (printed
    under its name), has an other name, a media contact and a quote, and an address of its own.
    """
    org = factories.organization(
        name="Churches for Middle East Peace Inc",
        slug="cmep-inc",
        acronym="CMEP DC",
        website="https://cmep.example.org/",
        notes="Entered from a press list.",
    )
    OtherName.objects.create(organization=org, name="Churches for ME Peace", kind="variant")
    statement = factories.statement(slug="later-letter", title="A later letter")
    factories.signature(statement=statement, organization=org, position=1)
    MediaContact.objects.create(statement=statement, organization=org, email="press@example.org")
    Quote.objects.create(statement=statement, organization=org, speaker="S", text="Words.")
    return org


def other_names(org) -> dict[str, str]:
    return dict(org.other_names.values_list("name", "kind"))


def member(client, django_user_model, role: str) -> Client:
    user = django_user_model.objects.create_user(role.lower(), password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


def messages_on(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


# The merge itself


def test_merging_moves_signatures_names_contacts_and_quotes(cmep, duplicate):
    before = cmep.signatures.count()
    report = merge_organizations(keep=cmep, other=duplicate)

    assert not Organization.objects.filter(pk=duplicate.pk).exists()
    signature = Signature.objects.get(statement__slug="later-letter")
    assert signature.organization == cmep
    # The statement still prints the name it was signed under.
    assert signature.printed_name == "Churches for Middle East Peace Inc"
    assert cmep.signatures.count() == before + 1
    assert MediaContact.objects.get(email="press@example.org").organization == cmep
    assert Quote.objects.get(text="Words.").organization == cmep
    assert other_names(cmep) == {
        "CMEP": "acronym",
        "CMEP DC": "acronym",
        "Churches for ME Peace": "variant",
        "Churches for Middle East Peace Inc": "former",
    }
    assert list(cmep.former_slugs.values_list("slug", flat=True)) == ["cmep-inc"]
    cmep.refresh_from_db()
    assert cmep.website == "https://cmep.example.org/"  # blank on the kept record: filled
    assert "Entered from a press list." in cmep.notes
    assert report.signatures_moved == 1 and report.media_contacts_moved == 1
    assert report.quotes_moved == 1 and report.combined_on == []


def test_where_both_signed_one_signature_stays_with_the_earlier_date_and_the_lead_role(anca):
    joint = Statement.objects.get(slug=JOINT)
    other = factories.organization(name="Armenian Natl. Committee", slug="anc-america")
    factories.signature(
        statement=joint,
        organization=other,
        name_as_printed="ANC of America",
        joined_on=datetime.date(2025, 11, 10),
        position=30,
    )
    signatures = joint.signatures.count()

    report = merge_organizations(keep=anca, other=other)

    assert joint.signatures.count() == signatures - 1
    kept = joint.signatures.get(organization=anca)
    assert (kept.role, kept.joined_on, kept.position) == ("lead", datetime.date(2025, 11, 10), 2)
    assert kept.name_as_printed == "Armenian National Committee of America (ANCA)"
    assert other_names(anca)["ANC of America"] == "variant"
    assert other_names(anca)["Armenian Natl. Committee"] == "former"
    assert report.combined_on == [joint.title]


def test_a_lead_signature_of_the_merged_record_makes_the_kept_one_lead(db):
    statement = factories.statement()
    keep = factories.organization(name="Keep")
    other = factories.organization(name="Other")
    factories.signature(statement=statement, organization=other, role="lead", position=1)
    factories.signature(statement=statement, organization=keep, position=7)

    merge_organizations(keep=keep, other=other)

    signature = statement.signatures.get()
    assert (signature.organization, signature.role, signature.position) == (keep, "lead", 1)
    assert other_names(keep) == {"Other": "former"}  # its printed name: its own name


def test_names_the_kept_record_has_already_are_not_added_twice(anca):
    other = factories.organization(name="anca", slug="anca-old", acronym="ANCA")
    OtherName.objects.create(organization=other, name="armenian national committee of america")
    OtherName.objects.create(organization=other, name="ANCA Western Region", kind="variant")

    report = merge_organizations(keep=anca, other=other)

    assert other_names(anca) == {"ANCA": "acronym", "ANCA Western Region": "variant"}
    assert report.other_names_dropped == ["armenian national committee of america"]


def test_merging_an_organisation_that_signed_nothing(cmep):
    empty = factories.organization(name="CMEP Washington Office", slug="cmep-washington")
    signatures = Signature.objects.count()

    merge_organizations(keep=cmep, other=empty)

    assert not Organization.objects.filter(slug="cmep-washington").exists()
    assert FormerSlug.objects.get(slug="cmep-washington").organization == cmep
    assert other_names(cmep)["CMEP Washington Office"] == "former"
    assert Signature.objects.count() == signatures


def test_former_slugs_of_the_merged_record_move_too(cmep, duplicate):
    older = factories.organization(name="CMEP Old", slug="cmep-old")
    merge_organizations(keep=duplicate, other=older)
    merge_organizations(keep=cmep, other=duplicate)
    assert sorted(cmep.former_slugs.values_list("slug", flat=True)) == ["cmep-inc", "cmep-old"]


def test_an_organisation_cannot_be_merged_into_itself(cmep):
    before = cmep.signatures.count()
    with pytest.raises(ValidationError, match="cannot be merged into itself"):
        merge_organizations(keep=cmep, other=Organization.objects.get(pk=cmep.pk))
    assert Organization.objects.filter(pk=cmep.pk).exists()
    assert cmep.signatures.count() == before
    assert not FormerSlug.objects.exists()


def test_every_change_of_a_merge_carries_its_reason_in_history(cmep, duplicate):
    merge_organizations(keep=cmep, other=duplicate)
    reason = "Merged “Churches for Middle East Peace Inc” into “Churches for Middle East Peace”"
    signature = Signature.objects.get(statement__slug="later-letter")
    assert signature.history.first().history_change_reason == reason
    deleted = Organization.history.filter(id=duplicate.pk).first()
    assert (deleted.history_type, deleted.history_change_reason) == ("-", reason)
    assert cmep.history.first().history_change_reason == reason
    assert FormerSlug.history.get(slug="cmep-inc").history_change_reason == reason
    added = OtherName.history.filter(name="Churches for Middle East Peace Inc").first()
    assert added.history_change_reason == reason
    assert MediaContact.history.filter(email="press@example.org").first().history_change_reason == (
        reason
    )


def test_a_long_merge_reason_is_cut_to_fit_history(db):
    keep = factories.organization(name="K" * 90)
    other = factories.organization(name="O" * 90)
    merge_organizations(keep=keep, other=other)
    reason = keep.history.first().history_change_reason
    assert len(reason) == 100 and reason.startswith("Merged “OOO") and reason.endswith("…")


def test_a_former_slug_cannot_be_taken_by_another_organisation(staff_client, cmep, duplicate):
    merge_organizations(keep=cmep, other=duplicate)
    add = reverse("admin:organizations_organization_add")
    data = {**form_data(staff_client.get(add).content.decode()), "name": "New", "slug": "cmep-inc"}
    response = staff_client.post(add, data)
    assert response.status_code == 200
    assert (
        "“cmep-inc” was the address of a record merged into “Churches for Middle East Peace”"
        in (response.content.decode())
    )
    assert not Organization.objects.filter(slug="cmep-inc").exists()


# Old addresses redirect


@pytest.fixture
def merged(cmep, duplicate):
    merge_organizations(keep=cmep, other=duplicate)
    return cmep


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/organizations/cmep-inc/", "/organizations/churches-for-middle-east-peace/"),
        ("/organizations/cmep-inc/feed/", "/organizations/churches-for-middle-east-peace/feed/"),
        (
            "/api/v1/organizations/cmep-inc/",
            "/api/v1/organizations/churches-for-middle-east-peace/",
        ),
        (
            "/api/v1/organizations/cmep-inc/timeline/?topic=gaza&format=csv",
            "/api/v1/organizations/churches-for-middle-east-peace/timeline/?topic=gaza&format=csv",
        ),
        (
            "/api/v1/organizations/cmep-inc/cosigners/?issued_after=2025-01-01",
            "/api/v1/organizations/churches-for-middle-east-peace/cosigners/"
            "?issued_after=2025-01-01",
        ),
    ],
)
def test_the_merged_records_addresses_redirect_to_the_kept_one(client, merged, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new
    assert client.get(new).status_code == 200


def test_unknown_slugs_and_current_slugs_are_not_redirected(client, merged):
    assert client.get("/organizations/no-such-organisation/").status_code == 404
    assert client.get("/api/v1/organizations/no-such-organisation/").status_code == 404
    assert client.get("/organizations/churches-for-middle-east-peace/").status_code == 200


def test_an_old_slug_of_an_organisation_known_only_from_drafts_is_not_found(client, draft):
    insider = Organization.objects.get(slug="only-on-the-draft")
    merge_organizations(keep=insider, other=factories.organization(slug="insider-old"))
    assert client.get("/organizations/insider-old/").status_code == 404
    assert client.get("/api/v1/organizations/insider-old/").status_code == 404


# Likely duplicates


def test_the_seed_data_has_no_likely_duplicates(seeded):
    assert find_duplicates().pairs == []


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ({"name": "The Peace Council & Friends"}, {"name": "Peace Council and Friends, Inc."},
         "Same name, apart from case, punctuation"),
        ({"name": "Just Foreign Policy"}, {"name": "Just Foriegn Policy"}, "Similar names"),
        ({"name": "Peace Action Network"}, {"name": "PAN"}, "is an other name or acronym of"),
        ({"name": "Women for Peace", "acronym": "WFP"}, {"name": "World Food Programme",
         "acronym": "W.F.P."}, "Same acronym, “WFP”"),
        ({"name": "Justice Network", "acronym": "JN"}, {"name": "Justice Now",
         "acronym": "JN Action"}, "Similar acronyms, “JN” and “JN Action”"),
    ],
)  # fmt: skip
def test_likely_duplicates_and_why(db, first, second, reason):
    a = factories.organization(**first)
    b = factories.organization(**second)
    if first["name"] == "Peace Action Network":
        OtherName.objects.create(organization=a, name="PAN", kind="acronym")
    factories.organization(name="Something Else Entirely")
    [pair] = find_duplicates().pairs
    assert {pair.first, pair.second} == {a, b}
    assert reason in "; ".join(pair.reasons)


def test_the_duplicates_page_lists_planted_duplicates_with_a_merge_link(staff_client, cmep):
    inc = factories.organization(name="Churches for Middle East Peace Inc", slug="cmep-inc")
    acronym = factories.organization(name="CMEP", slug="cmep")
    changelist = staff_client.get(CHANGELIST).content.decode()
    assert f'href="{DUPLICATES}">Likely duplicates</a>' in changelist

    page = staff_client.get(DUPLICATES).content.decode()

    assert "2 pairs, most likely first." in page
    rows = page.split("<tbody>")[1].split("</tr>")
    inc_row = next(row for row in rows if "cmep-inc" in row)
    assert "Same name, apart from case, punctuation, “The”, “&amp;” or “Inc.”" in inc_row
    assert "<td>5</td>" in inc_row and "<td>0</td>" in inc_row  # signatures each
    assert f'href="{MERGE}?a={cmep.pk}&amp;b={inc.pk}">Merge…</a>' in inc_row
    acronym_row = next(row for row in rows if "<code>cmep</code>" in row)
    assert "“CMEP” is an other name or acronym of “Churches for Middle East Peace”" in acronym_row
    assert f'href="{MERGE}?a={cmep.pk}&amp;b={acronym.pk}">Merge…</a>' in acronym_row


def test_the_duplicates_page_costs_the_same_whatever_the_number_of_organisations(staff_client, db):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(DUPLICATES).status_code == 200
        return len(ctx.captured_queries)

    for n in range(3):
        factories.organization(name=f"Peace Network {n}", acronym="PN")
    few = queries()
    for n in range(3, 40):
        factories.organization(name=f"Peace Network {n}", acronym="PN")
    # Session, user, organisations, other names, signature counts of the pairs shown.
    assert queries() == few


# Merging in the admin


def test_an_editor_merges_two_records_from_the_confirm_page(client, django_user_model, merged_pair):
    cmep, inc = merged_pair
    editor = member(client, django_user_model, "Editor")
    page = editor.get(MERGE, {"a": cmep.pk, "b": inc.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Keep “Churches for Middle East Peace”" in html and "cmep-inc" in html
    assert "Signed by both: 1 statement" in html and "A later letter" in html
    data = form_data(html)
    assert data == {"a": str(cmep.pk), "b": str(inc.pk), "keep": "a"}  # more signatures: kept

    response = editor.post(MERGE, data, follow=True)

    assert response.redirect_chain == [
        (reverse("admin:organizations_organization_change", args=[cmep.pk]), 302)
    ]
    assert "Merged “Churches for Middle East Peace Inc” into “Churches for Middle East Peace”" in (
        messages_on(response)
    )
    assert not Organization.objects.filter(pk=inc.pk).exists()
    assert cmep.signatures.filter(statement__slug="later-letter").count() == 1
    assert cmep.history.first().history_user.username == "editor"
    assert "<code>cmep-inc</code>" in response.content.decode()  # the former slug, shown


@pytest.fixture
def merged_pair(cmep, duplicate):
    """CMEP and its duplicate, both on one statement."""
    statement = Statement.objects.get(slug="later-letter")
    factories.signature(statement=statement, organization=cmep, position=2)
    return cmep, duplicate


def test_staff_choose_which_record_to_keep(staff_client, cmep, duplicate):
    response = staff_client.post(MERGE, {"a": cmep.pk, "b": duplicate.pk, "keep": "b"})
    assert response["Location"] == reverse(
        "admin:organizations_organization_change", args=[duplicate.pk]
    )
    assert not Organization.objects.filter(pk=cmep.pk).exists()
    duplicate.refresh_from_db()
    assert duplicate.signatures.count() == 6
    assert FormerSlug.objects.get(slug="churches-for-middle-east-peace").organization == duplicate


def test_a_viewer_cannot_merge_or_see_the_merge_pages(client, django_user_model, cmep, duplicate):
    viewer = member(client, django_user_model, "Viewer")
    assert viewer.get(CHANGELIST).status_code == 200
    assert "Likely duplicates" not in viewer.get(CHANGELIST).content.decode()
    assert viewer.get(DUPLICATES).status_code == 403
    assert viewer.get(MERGE, {"a": cmep.pk, "b": duplicate.pk}).status_code == 403
    response = viewer.post(MERGE, {"a": cmep.pk, "b": duplicate.pk, "keep": "a"})
    assert response.status_code == 403
    assert Organization.objects.filter(pk=duplicate.pk).exists()


def test_the_merge_is_a_post_with_a_csrf_token(django_user_model, cmep, duplicate):
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_superuser("admin", "a@b.org", "pw"))
    response = client.post(MERGE, {"a": cmep.pk, "b": duplicate.pk, "keep": "a"})
    assert response.status_code == 403
    assert Organization.objects.filter(pk=duplicate.pk).exists()


def action(client, ids):
    return client.post(
        CHANGELIST, {"action": "merge_selected", "_selected_action": ids}, follow=False
    )


def test_the_merge_action_opens_the_confirm_page_for_two_selected(staff_client, cmep, duplicate):
    response = action(staff_client, [duplicate.pk, cmep.pk])
    assert response.status_code == 302
    assert response["Location"] == f"{MERGE}?a={cmep.pk}&b={duplicate.pk}"
    assert Organization.objects.filter(pk=duplicate.pk).exists()


@pytest.mark.parametrize("count", [1, 3])
def test_the_merge_action_wants_exactly_two(staff_client, cmep, duplicate, anca, count):
    ids = [cmep.pk, duplicate.pk, anca.pk][:count]
    response = staff_client.post(
        CHANGELIST, {"action": "merge_selected", "_selected_action": ids}, follow=True
    )
    assert "Select exactly two organisations to merge." in messages_on(response)
    assert Organization.objects.filter(pk=duplicate.pk).exists()


BAD_INPUT = [
    ({}, "Choose two organisations to merge."),
    ({"a": "{cmep}"}, "Choose two organisations to merge."),
    ({"a": "abc", "b": "{cmep}"}, "“abc” is not the id of an organisation."),
    ({"a": "{cmep}", "b": str(2**63)}, f"“{2**63}” is not the id of an organisation."),
    ({"a": "{cmep}", "b": "{cmep}"}, "Choose two different organisations"),
    ({"a": "{cmep}", "b": "999999"}, "There is no organisation with id 999999"),
    ({"a": "{cmep}", "b": str(2**63 - 1)}, f"There is no organisation with id {2**63 - 1}"),
    ({"a": "{cmep}", "b": "-1"}, "There is no organisation with id -1"),
]


@pytest.mark.parametrize(("params", "message"), BAD_INPUT)
@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    staff_client, cmep, duplicate, params, message, method
):
    params = {key: value.format(cmep=cmep.pk) for key, value in params.items()}
    if method == "post":
        params["keep"] = "a"
    organizations = Organization.objects.count()
    response = getattr(staff_client, method)(MERGE, params, follow=True)
    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert message in messages_on(response)
    assert Organization.objects.count() == organizations
    assert not FormerSlug.objects.exists()


@pytest.mark.parametrize("keep", [None, "", "c", str(2**63)])
def test_a_merge_without_a_choice_of_record_to_keep_changes_nothing(
    staff_client, cmep, duplicate, keep
):
    data = {"a": cmep.pk, "b": duplicate.pk}
    if keep is not None:
        data["keep"] = keep
    response = staff_client.post(MERGE, data, follow=True)
    assert "Choose which record to keep." in messages_on(response)
    assert Organization.objects.filter(pk=duplicate.pk).exists()


def test_the_seeds_import_again_after_a_seed_organisation_was_merged_away(seeded):

    from .conftest import SEEDS

    keep = factories.organization(name="CMEP Coalition", slug="cmep-coalition")
    old = Organization.objects.get(slug="churches-for-middle-east-peace")
    signed = set(old.signatures.values_list("statement_id", flat=True))
    merge_organizations(keep=keep, other=old)
    report = import_paths([SEEDS])
    assert not report.changed
    assert not Organization.objects.filter(slug="churches-for-middle-east-peace").exists()
    assert set(keep.signatures.values_list("statement_id", flat=True)) == signed


def test_a_merge_keeps_the_other_signatures_withdrawal_on_a_shared_statement(db):
    keep, other = factories.organization(), factories.organization()
    statement = factories.statement()
    factories.signature(statement=statement, organization=keep)
    factories.signature(
        statement=statement,
        organization=other,
        withdrawn_on=datetime.date(2025, 12, 1),
        withdrawal_reason="Withdrew after a board vote.",
    )
    merge_organizations(keep=keep, other=other)
    signature = Signature.objects.get(statement=statement)
    assert signature.organization == keep
    assert signature.withdrawn_on == datetime.date(2025, 12, 1)
    assert signature.withdrawal_reason == "Withdrew after a board vote."


def test_merging_an_organisation_known_only_from_drafts_makes_nothing_of_it_public(db):
    keep = factories.organization(name="Public Org", slug="public-org")
    factories.signature(statement=factories.statement(), organization=keep)
    secret = factories.organization(name="Secret Newcomer", slug="secret-newcomer")
    draft = factories.statement(status=Statement.Status.DRAFT)
    factories.signature(statement=draft, organization=secret, name_as_printed="Secret Co")
    factories.signature(statement=draft, organization=keep)
    merge_organizations(keep=keep, other=secret)
    assert not FormerSlug.objects.filter(slug="secret-newcomer").exists()
    public = set(
        OtherName.objects.public().filter(organization=keep).values_list("name", flat=True)
    )
    assert not public & {"Secret Newcomer", "Secret Co"}
    assert Client().get("/organizations/secret-newcomer/").status_code == 404


# A record known only from drafts, merged into a public one


BLORP = "Blorptastic Peace Alliance"


@pytest.fixture
def pasted_newcomer(db):
    """
    A public record, and a new organisation the paste flow created from the line
    "Blorptastic Peace Alliance (BPA)" on a draft, with its details filled in by staff.
    """
    from statements.signatory_lists import add_signatories, entries_from_text

    public = factories.organization(name="Peace Alliance International", slug="pai")
    factories.signature(statement=factories.statement(slug="out"), organization=public)
    draft = factories.statement(status=Statement.Status.DRAFT, slug="coming", title="Coming soon")
    entries = entries_from_text(f"{BLORP} (BPA)", role="signatory", joined_on=draft.issued_on)
    [newcomer] = add_signatories(draft, entries, [None], reason="Pasted").created
    Organization.objects.filter(pk=newcomer.pk).update(
        description="Blorptastic campaigns for peace.",
        website="https://blorptastic.example.org/",
        kind=Organization.Kind.COALITION,
        country="Blorpland",
        city="Blorpville",
    )
    newcomer.refresh_from_db()
    return public, newcomer, draft


def public_surfaces(client) -> dict[str, str]:
    """What the public sees of the kept record: its page and its API record."""
    return {
        "page": client.get("/organizations/pai/").content.decode(),
        "api": client.get("/api/v1/organizations/pai/").content.decode(),
    }


def found_by(client, query: str) -> dict[str, bool]:
    """Whether each public search finds the kept record by `query`."""
    api = client.get("/api/v1/organizations/", {"q": query}).json()["results"]
    link = 'href="/organizations/pai/"'
    return {
        "api": [org["slug"] for org in api] == ["pai"],
        "search": link in client.get("/search/", {"q": query}).content.decode(),
        "organisations": link in client.get("/organizations/", {"q": query}).content.decode(),
    }


def test_nothing_of_a_draft_only_record_shows_publicly_after_a_merge(client, pasted_newcomer):
    public, newcomer, draft = pasted_newcomer
    assert newcomer.acronym == "BPA"
    assert other_names(newcomer) == {"BPA": "acronym", f"{BLORP} (BPA)": "variant"}

    report = merge_organizations(keep=public, other=newcomer)

    for surface, content in public_surfaces(client).items():
        for hidden in ("Blorptastic", "blorptastic", "BPA", "Blorpland", "Blorpville"):
            assert hidden not in content, (surface, hidden)
    for query in ("Blorptastic", f"{BLORP} (BPA)", "BPA"):
        assert found_by(client, query) == {"api": False, "search": False, "organisations": False}
    assert found_by(client, "Peace Alliance International")["api"]
    detail = client.get("/api/v1/organizations/pai/").json()
    assert detail["other_names"] == []
    assert (detail["acronym"], detail["website"], detail["kind"]) == ("", "", "")
    assert (detail["description"], detail["country"], detail["city"]) == ("", "", "")
    # Staff keep everything: the names still match pasted lists, the details are in the notes.
    assert draft.signatures.get().organization == public
    assert other_names(public) == {BLORP: "former", "BPA": "acronym", f"{BLORP} (BPA)": "variant"}
    assert set(public.other_names.values_list("withholding__statement", flat=True)) == {draft.pk}
    public.refresh_from_db()
    assert "https://blorptastic.example.org/" in public.notes
    assert "Blorpland" in public.notes and "Coalition or network" in public.notes
    assert "“Coming soon”" in public.notes
    assert "stay hidden from the public until the draft is published" in report.summary()
    assert "redirects" not in report.summary()
    assert client.get("/organizations/blorptastic-peace-alliance/").status_code == 404


def test_a_draft_only_records_names_go_public_once_the_draft_is_published(client, pasted_newcomer):
    public, newcomer, draft = pasted_newcomer
    merge_organizations(keep=public, other=newcomer)
    publish(statement=draft)

    surfaces = public_surfaces(client)
    assert f"{BLORP} (BPA)" in surfaces["page"]
    names = client.get("/api/v1/organizations/pai/").json()["other_names"]
    assert {"name": "BPA", "kind": "acronym"} in names
    assert {"name": f"{BLORP} (BPA)", "kind": "variant"} in names
    for query in ("Blorptastic", f"{BLORP} (BPA)", "BPA"):
        assert found_by(client, query) == {"api": True, "search": True, "organisations": True}
    # Public details stay staff-side until staff copy them from the notes.
    assert "Blorpland" not in surfaces["page"]


def test_a_draft_only_record_cannot_be_kept_over_a_public_one(pasted_newcomer):
    public, newcomer, _draft = pasted_newcomer
    with pytest.raises(ValidationError, match="known only from drafts: keep “Peace Alliance"):
        merge_organizations(keep=newcomer, other=public)
    assert Organization.objects.filter(pk=public.pk).exists()
    assert public.signatures.count() == 1 and newcomer.signatures.count() == 1


def test_a_name_printed_on_a_shared_draft_is_withheld_until_it_is_published(client, cmep):
    draft = factories.statement(status=Statement.Status.DRAFT, slug="shared-draft")
    other = factories.organization(name="Churches ME Peace Office", slug="cmep-office")
    factories.signature(statement=factories.statement(), organization=other)
    factories.signature(statement=draft, organization=cmep)
    factories.signature(statement=draft, organization=other, name_as_printed="CMEP Office DC")

    merge_organizations(keep=cmep, other=other)

    page = "/organizations/churches-for-middle-east-peace/"
    assert "Churches ME Peace Office" in client.get(page).content.decode()  # a public name
    assert "CMEP Office DC" not in client.get(page).content.decode()
    publish(statement=draft)
    assert "CMEP Office DC" in client.get(page).content.decode()


def test_the_confirm_page_says_what_stays_hidden_and_keeps_the_public_record(
    staff_client, pasted_newcomer
):
    public, newcomer, _draft = pasted_newcomer
    page = staff_client.get(MERGE, {"a": newcomer.pk, "b": public.pk}).content.decode()
    assert f"“{BLORP}” is known only from drafts" in page
    assert "the API and search until the draft it was entered on is published" in page
    assert form_data(page)["keep"] == "b"  # the public one, though it has no more signatures

    response = staff_client.post(
        MERGE, {"a": newcomer.pk, "b": public.pk, "keep": "a"}, follow=True
    )
    assert "known only from drafts: keep “Peace Alliance International” instead" in messages_on(
        response
    )
    assert Organization.objects.filter(pk=public.pk).exists()


# Old addresses of a record known only from drafts


def old_addresses(client, slug: str) -> dict[str, tuple[int, str | None]]:
    """What the public gets at a slug's page, feed and API addresses: status and redirect."""
    responses = {
        "page": client.get(f"/organizations/{slug}/"),
        "feed": client.get(f"/organizations/{slug}/feed/"),
        "api": client.get(f"/api/v1/organizations/{slug}/"),
    }
    return {what: (r.status_code, r.get("Location")) for what, r in responses.items()}


NOT_FOUND = dict.fromkeys(("page", "feed", "api"), (404, None))


REDIRECTED_TO_DAWN = {
    "page": (301, "/organizations/dawn/"),
    "feed": (301, "/organizations/dawn/feed/"),
    "api": (301, "/api/v1/organizations/dawn/"),
}


@pytest.fixture
def secret_with_old_addresses(seeded):
    """
    "Secret Coalition", known only from a draft, with two old addresses of its own: a blank
    duplicate merged into it, and one an import file gave it.
    """
    draft = factories.statement(status=Statement.Status.DRAFT, slug="d1", title="Coming")
    secret = factories.organization(name="Secret Coalition", slug="secret-coalition")
    factories.signature(statement=draft, organization=secret)
    duplicate = factories.organization(name="Secret Coalition Intl", slug="secret-coalition-intl")
    merge_organizations(keep=secret, other=duplicate)
    FormerSlug.objects.create(organization=secret, slug="secret-coalition-old")
    return secret, draft


def test_old_addresses_of_a_draft_only_record_redirect_only_once_the_draft_is_out(
    client, secret_with_old_addresses
):
    secret, draft = secret_with_old_addresses
    old = ["secret-coalition-intl", "secret-coalition-old"]
    for slug in old:
        assert old_addresses(client, slug) == NOT_FOUND, slug

    report = merge_organizations(keep=Organization.objects.get(slug="dawn"), other=secret)

    for slug in [*old, "secret-coalition"]:
        assert old_addresses(client, slug) == NOT_FOUND, slug
    # Staff keep them: they still belong to the kept record, withheld until the draft.
    moved = FormerSlug.objects.filter(slug__in=old)
    assert {(f.organization.slug, f.withholding.statement_id) for f in moved} == {
        ("dawn", draft.pk)
    }
    assert "2 old address(es) known only from drafts do not redirect" in report.summary()

    publish(statement=draft)
    for slug in old:
        assert old_addresses(client, slug) == REDIRECTED_TO_DAWN, slug
    assert old_addresses(client, "secret-coalition") == NOT_FOUND  # never was public


def test_withheld_old_addresses_stay_withheld_after_a_backup_round_trip(
    client, secret_with_old_addresses, tmp_path
):
    from django.core.management import call_command

    from .test_export import _empty_the_database

    secret, draft = secret_with_old_addresses
    merge_organizations(keep=Organization.objects.get(slug="dawn"), other=secret)
    first = tmp_path / "first.yaml"
    call_command("export_statements", str(first), stdout=open("/dev/null", "w"))  # noqa: SIM115
    _empty_the_database()
    call_command("import_statements", str(first), stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert old_addresses(client, "secret-coalition-intl") == NOT_FOUND
    draft = Statement.objects.get(slug="d1")
    assert set(
        FormerSlug.objects.filter(withholding__statement=draft).values_list("slug", flat=True)
    ) == {
        "secret-coalition-intl",
        "secret-coalition-old",
    }
    second = tmp_path / "second.yaml"
    call_command("export_statements", str(second), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert second.read_bytes() == first.read_bytes()
    assert not import_paths([first]).changed

    publish(statement=draft)
    assert old_addresses(client, "secret-coalition-intl") == REDIRECTED_TO_DAWN


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"slug": "gone", "withheld_until": "no-such-draft"}, "withheld_until: no statement"),
        ({"slug": "gone", "until": "x"}, "unknown field(s) until"),
        (["gone"], "expected slugs, or mappings of slug and withheld_until"),
    ],
)
def test_a_bad_withheld_former_slug_in_an_import_is_refused(db, tmp_path, entry, message):
    import yaml

    from statements.importing import ImportDataError

    path = tmp_path / "orgs.yaml"
    path.write_text(
        yaml.safe_dump({"organizations": [{"slug": "o", "name": "O", "former_slugs": [entry]}]})
    )
    with pytest.raises(ImportDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_paths([path])
    assert not Organization.objects.exists() and not FormerSlug.objects.exists()


# A record known only from a draft's quote or media contact


def quote_only_org(draft: Statement, how: str) -> Organization:
    org = factories.organization(name="Quote Only Org", slug="quote-only-org", acronym="QOO")
    OtherName.objects.create(organization=org, name="Quote Only Organisation")
    if how == "quote":
        Quote.objects.create(statement=draft, organization=org, speaker="A Speaker", text="Hi.")
    else:
        MediaContact.objects.create(statement=draft, organization=org, email="press@qoo.example")
    return org


@pytest.mark.parametrize("how", ["quote", "media contact"])
def test_a_record_known_only_from_a_drafts_quote_or_contact_is_not_published_by_a_merge(
    client, seeded, how
):
    draft = factories.statement(status=Statement.Status.DRAFT, slug="d2", title="Quoted soon")
    org = quote_only_org(draft, how)
    assert client.get("/organizations/quote-only-org/").status_code == 404
    dawn = Organization.objects.get(slug="dawn")

    merge_organizations(keep=dawn, other=org)

    names = ("QOO", "Quote Only Org", "Quote Only Organisation")
    page = client.get("/organizations/dawn/").content.decode()
    api = client.get("/api/v1/organizations/dawn/").json()
    for name in names:
        assert name not in page, name
        assert name not in [other["name"] for other in api["other_names"]], name
    assert api["acronym"] == dawn.acronym
    assert old_addresses(client, "quote-only-org") == NOT_FOUND
    dawn.refresh_from_db()
    assert "QOO" in dawn.notes and "“Quoted soon”" in dawn.notes
    assert set(
        dawn.other_names.filter(name__in=names).values_list("withholding__statement", flat=True)
    ) == {draft.pk}

    publish(statement=draft)
    page = client.get("/organizations/dawn/").content.decode()
    assert all(name in page for name in names)


def test_a_record_known_only_from_a_drafts_quote_cannot_be_kept_over_a_public_one(seeded):
    draft = factories.statement(status=Statement.Status.DRAFT, slug="d3")
    org = quote_only_org(draft, "quote")
    with pytest.raises(ValidationError, match="known only from drafts"):
        merge_organizations(keep=org, other=Organization.objects.get(slug="dawn"))
    assert Organization.objects.filter(slug="dawn").exists()


def test_the_kept_records_page_says_which_old_addresses_wait_for_a_draft(
    staff_client, secret_with_old_addresses
):
    secret, _draft = secret_with_old_addresses
    dawn = Organization.objects.get(slug="dawn")
    merge_organizations(keep=dawn, other=secret)
    page = staff_client.get(
        reverse("admin:organizations_organization_change", args=[dawn.pk])
    ).content.decode()
    assert "<code>secret-coalition-intl</code> (not until “Coming” is published)" in page


def test_a_deleted_draft_takes_the_old_addresses_it_withheld_and_restoring_it_brings_them_back(
    staff_client, secret_with_old_addresses
):
    from .test_history import delete_in_admin, last_version_url

    secret, draft = secret_with_old_addresses
    merge_organizations(keep=Organization.objects.get(slug="dawn"), other=secret)
    delete_in_admin(staff_client, draft)
    assert not FormerSlug.objects.filter(slug__startswith="secret-coalition").exists()

    assert staff_client.post(last_version_url(Statement, draft.pk), {}).status_code == 302
    restored = FormerSlug.objects.filter(slug__startswith="secret-coalition")
    assert {(f.slug, f.withholding.statement_id) for f in restored} == {
        ("secret-coalition-intl", draft.pk),
        ("secret-coalition-old", draft.pk),
    }


# What a merge costs, and the derived data it leaves


def organisation_to_merge(signatures: int, *, draft_shared: bool = False) -> tuple:
    """
    Two records of one organisation: `other` signed `signatures` statements, two of them
    signed by `keep` too (one a draft if `draft_shared`), and has an other name, a former
    slug, a media contact and a quote.
    """
    keep = factories.organization()
    other = factories.organization(acronym="OTR")
    OtherName.objects.create(organization=other, name=f"{other.name} Intl")
    FormerSlug.objects.create(organization=other, slug=f"{other.slug}-old")
    for n in range(signatures):
        status = Statement.Status.DRAFT if draft_shared and n == 0 else Statement.Status.PUBLISHED
        statement = factories.statement(status=status, signatories=1 if n % 3 == 0 else 0)
        factories.signature(
            statement=statement, organization=other, position=5, name_as_printed=f"Printed {n}"
        )
        if n < 2:
            factories.signature(statement=statement, organization=keep, position=6)
    MediaContact.objects.create(statement=statement, organization=other, email="a@example.org")
    Quote.objects.create(statement=statement, organization=other, speaker="S", text="Said.")
    return keep, other


def merge_queries(signatures: int) -> int:
    keep, other = organisation_to_merge(signatures, draft_shared=True)
    with CaptureQueriesContext(connection) as ctx:
        report = merge_organizations(keep=keep, other=other)
    assert report.signatures_moved == signatures - 2 and len(report.combined_on) == 2
    assert keep.signatures.count() == signatures
    assert derived.check() == []
    return len(ctx.captured_queries)


def test_a_merge_makes_as_many_queries_for_fifty_signatures_as_for_five(db):
    # Set-based: each part moves by one UPDATE (or DELETE) and one INSERT of history
    # entries, whatever the number of rows.
    assert merge_queries(5) == merge_queries(50)


def test_a_set_based_merge_writes_each_moved_rows_history_as_a_save_would(
    client, django_user_model, db
):
    keep, other = organisation_to_merge(4)
    editor = member(client, django_user_model, "Editor")
    response = editor.post(MERGE, {"a": keep.pk, "b": other.pk, "keep": "a"})
    assert response.status_code == 302
    reason = merge_reason(keep=keep, other=other)
    moved = Signature.history.filter(history_change_reason=reason, history_type="~")
    # Two moved; the kept ones on the statements both had signed did not change.
    assert sorted(entry.name_as_printed for entry in moved) == ["Printed 2", "Printed 3"]
    assert {entry.organization_id for entry in moved} == {keep.pk}
    assert {entry.history_user.username for entry in moved} == {"editor"}
    for entry in moved:
        assert Signature.objects.get(pk=entry.id).organization_id == keep.pk
    gone = Signature.history.filter(history_change_reason=reason, history_type="-")
    assert sorted(entry.name_as_printed for entry in gone) == ["Printed 0", "Printed 1"]
    assert not Signature.objects.filter(pk__in=[entry.id for entry in gone]).exists()
    added = OtherName.history.filter(history_change_reason=reason, history_type="+")
    assert {entry.name for entry in added} >= {other.name, "OTR", "Printed 0", "Printed 1"}
    for model in (MediaContact, Quote, FormerSlug):  # moved (and a former slug added)
        entries = model.history.filter(history_change_reason=reason)
        assert entries and {entry.organization_id for entry in entries} == {keep.pk}


def test_the_kept_signature_on_a_shared_statement_combines_both(db):
    keep, other = factories.organization(), factories.organization()
    statements = [factories.statement() for _ in range(3)]
    day = datetime.date
    for statement, mine, theirs in zip(
        statements,
        [
            {"joined_on": day(2025, 11, 12), "position": 4},
            {"joined_on": day(2025, 11, 1), "role": "lead", "position": 1},
            {"joined_on": day(2025, 11, 12), "position": 3},
        ],
        [
            {"joined_on": day(2025, 11, 2), "role": "lead", "position": 2},
            {"joined_on": day(2025, 11, 5), "withdrawn_on": day(2025, 12, 1),
             "withdrawal_reason": "Left."},
            {"joined_on": day(2025, 11, 20), "position": 9},
        ],
        strict=True,
    ):  # fmt: skip
        factories.signature(statement=statement, organization=keep, **mine)
        factories.signature(statement=statement, organization=other, **theirs)

    merge_organizations(keep=keep, other=other)

    rows = [
        Signature.objects.filter(statement=statement)
        .values_list(
            "organization", "role", "position", "joined_on", "withdrawn_on", "withdrawal_reason"
        )
        .get()
        for statement in statements
    ]
    assert rows == [
        (keep.pk, "lead", 2, day(2025, 11, 2), None, ""),
        (keep.pk, "lead", 1, day(2025, 11, 1), day(2025, 12, 1), "Left."),
        (keep.pk, "signatory", 3, day(2025, 11, 12), None, ""),
    ]


def test_names_withheld_by_a_merge_are_hidden_again_if_the_draft_goes_back_to_draft(
    client, pasted_newcomer
):
    public, newcomer, draft = pasted_newcomer
    merge_organizations(keep=public, other=newcomer)
    assert set(public.other_names.values_list("withheld", flat=True)) == {True}
    publishing.publish(statement=draft)
    assert found_by(client, "BPA") == {"api": True, "search": True, "organisations": True}
    publishing.unpublish(statement=draft)
    assert found_by(client, "BPA") == {"api": False, "search": False, "organisations": False}
    assert set(public.other_names.values_list("withheld", flat=True)) == {True}


def test_releasing_a_withheld_name_makes_it_public(client, pasted_newcomer):
    public, newcomer, _draft = pasted_newcomer
    merge_organizations(keep=public, other=newcomer)
    withholding.release(withholdings=Withholding.objects.filter(other_name__name="BPA"))
    assert found_by(client, "BPA") == {"api": True, "search": True, "organisations": True}
    assert found_by(client, BLORP) == {"api": False, "search": False, "organisations": False}
    assert OtherName.objects.get(name="BPA").withheld is False
