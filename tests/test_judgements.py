"""Staff's "same" and "not the same" answers: kept, shown, taken back, and respected."""

import pytest
from django.urls import reverse

from organizations import judgements
from organizations.duplicates import find_duplicates
from organizations.matching import Matcher, parse_pasted_list
from organizations.models import Judgement, Organization, OtherName

from . import factories
from . import test_signatory_lists as lists

pytestmark = pytest.mark.django_db
statement, editor = lists.statement, lists.editor  # the signatory list tests' fixtures
preview, confirm, rows = lists.preview, lists.confirm, lists.rows

DUPLICATES = reverse("admin:organizations_organization_duplicates")
JUDGEMENTS = reverse("admin:organizations_organization_judgements")


def matched(text):
    (match,) = Matcher().match_all(parse_pasted_list(text))
    return match


def test_a_confirmed_suggestion_becomes_an_other_name_and_then_matches(editor, statement):
    response = preview(editor, statement, "Codepink: Women for Peace\n")
    ((kind, *_),) = rows(response)
    assert kind == "suggested"
    codepink = Organization.objects.get(slug="codepink")
    done = confirm(editor, statement, response)  # the suggestion, as proposed
    assert done.status_code == 302
    judgement = Judgement.objects.get()
    assert (judgement.organization, judgement.verdict, judgement.name) == (
        codepink,
        "same",
        "Codepink: Women for Peace",
    )
    assert judgement.other_name.name == "Codepink: Women for Peace"
    assert judgement.history.get().history_user.username == "ed"
    assert (
        matched("Codepink: Women for Peace").how,
        matched("Codepink: Women for Peace").organization,
    ) == (
        "other name",
        codepink,
    )


def test_a_refused_suggestion_is_not_suggested_again(editor, statement):
    response = preview(editor, statement, "Churches for Midle East Peace\n")
    ((kind, *_),) = rows(response)
    assert kind == "suggested"
    cmep = Organization.objects.get(slug="churches-for-middle-east-peace")
    dawn = Organization.objects.get(slug="dawn")
    # Staff say it is DAWN, not CMEP: both answers are kept.
    assert confirm(editor, statement, response, org_0=str(dawn.pk)).status_code == 302
    assert set(Judgement.objects.values_list("organization__slug", "verdict")) == {
        ("churches-for-middle-east-peace", "apart"),
        ("dawn", "same"),
    }
    match = matched("Churches for Midle East Peace")
    assert (match.how, match.organization) == ("other name", dawn)
    judgements.take_back(Judgement.objects.get(organization=dawn))
    match = matched("Churches for Midle East Peace")
    assert match.is_new  # not DAWN any more, and never CMEP again
    assert cmep.pk not in {c.organization_id for c in match.candidates}


def test_a_name_judged_apart_is_new_and_taking_it_back_suggests_it_again(seeded):
    cmep = Organization.objects.get(slug="churches-for-middle-east-peace")
    judgement = judgements.name_is_apart("CHURCHES for Midle East Peace", cmep)
    assert matched("Churches for Midle East Peace").is_new  # judged in its folded form
    judgements.take_back(judgement)
    assert matched("Churches for Midle East Peace").organization == cmep
    assert not Judgement.objects.exists()


def test_taking_back_a_same_removes_the_other_name_it_added(seeded):
    codepink = Organization.objects.get(slug="codepink")
    judgement = judgements.name_is_same("Code Pink Women for Peace", codepink)
    assert codepink.other_names.filter(name="Code Pink Women for Peace").exists()
    judgements.take_back(judgement)
    assert not codepink.other_names.filter(name="Code Pink Women for Peace").exists()
    # A name the organisation already has adds nothing, and another's name is judged only.
    assert judgements.name_is_same("CODEPINK", codepink).other_name is None
    assert judgements.name_is_same("DAWN", codepink).other_name is None
    assert not OtherName.objects.filter(organization=codepink, name="DAWN").exists()


def test_a_pair_judged_apart_leaves_the_duplicates_page_until_taken_back(staff_client, db):
    houston = factories.organization(name="Peace Coalition in Houston")
    houstn = factories.organization(name="Peace Coalition in Houstn")
    assert {pair.both for pair in find_duplicates().pairs} == {(houston, houstn)}
    response = staff_client.post(DUPLICATES, {"a": houstn.pk, "b": houston.pk}, follow=True)
    assert "are judged not the same" in response.content.decode()
    assert find_duplicates().pairs == []
    page = staff_client.get(DUPLICATES).content.decode()
    assert "No likely duplicates found." in page and 'id="judged"' in page
    judgement = Judgement.objects.get()
    assert (judgement.organization, judgement.other) == (houston, houstn)  # smaller id first
    staff_client.post(JUDGEMENTS, {"take_back": judgement.pk, "next": DUPLICATES})
    assert {pair.both for pair in find_duplicates().pairs} == {(houston, houstn)}


def test_sibling_chapters_are_not_proposed_as_duplicates(db):
    factories.organization(name="Jewish Voice for Peace in Houston")
    factories.organization(name="Jewish Voice for Peace in Boston")
    assert find_duplicates().pairs == []


def test_the_judgements_page_lists_them_and_bad_answers_change_nothing(staff_client, seeded):
    codepink = Organization.objects.get(slug="codepink")
    dawn = Organization.objects.get(slug="dawn")
    judgements.name_is_same("Code Pink Women for Peace", codepink)
    judgements.pair_is_apart(codepink, dawn)
    page = staff_client.get(JUDGEMENTS).content.decode()
    assert "“Code Pink Women for Peace” (now an other name)" in page
    assert page.count("Take back</button>") == 2
    filtered = staff_client.get(JUDGEMENTS, {"organization": dawn.pk}).content.decode()
    assert filtered.count("Take back</button>") == 1
    assert staff_client.get(JUDGEMENTS, {"organization": "x"}).status_code == 404
    for bad in ("", "abc", "999999", "1; DROP"):
        response = staff_client.post(JUDGEMENTS, {"take_back": bad}, follow=True)
        assert response.status_code == 200
        assert "already taken back" in response.content.decode()
    # An address elsewhere is not followed.
    response = staff_client.post(JUDGEMENTS, {"take_back": "", "next": "https://evil.example/"})
    assert response["Location"] == JUDGEMENTS
    for pair in ({"a": codepink.pk, "b": codepink.pk}, {"a": codepink.pk, "b": "x"}, {}):
        response = staff_client.post(DUPLICATES, pair, follow=True)
        assert response.status_code == 200
    assert Judgement.objects.count() == 2


def test_editors_may_judge_and_viewers_may_not(client, django_user_model, seeded, staff_roles):
    from django.contrib.auth.models import Group

    viewer = django_user_model.objects.create_user("vi", password="x", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(viewer)
    a, b = Organization.objects.order_by("pk")[:2]
    assert client.post(DUPLICATES, {"a": a.pk, "b": b.pk}).status_code == 403
    assert client.get(JUDGEMENTS).status_code == 403
    assert not Judgement.objects.exists()


def test_an_organisation_links_to_its_judgements(staff_client, seeded):
    codepink = Organization.objects.get(slug="codepink")
    change = reverse("admin:organizations_organization_change", args=[codepink.pk])
    assert (
        f'href="{JUDGEMENTS}?organization={codepink.pk}"'
        in staff_client.get(change).content.decode()
    )
    listing = reverse("admin:organizations_organization_changelist")
    assert f'href="{JUDGEMENTS}"' in staff_client.get(listing).content.decode()
