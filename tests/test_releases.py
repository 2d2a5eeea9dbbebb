"""Starting a statement from its press release: the two seed releases, read and made a draft."""

import datetime
import re
from pathlib import Path

import pytest
from django.urls import reverse

from organizations.names import fold
from statements.models import Statement
from statements.releases import read_release

from .admin_forms import form_data

pytestmark = pytest.mark.django_db

SOURCES = Path(__file__).resolve().parent.parent / "seeds" / "sources"
CMEP = (SOURCES / "001_af802355f68539b1.txt").read_text(encoding="utf-8")
ANCA = (SOURCES / "000_a0913554c797a957.txt").read_text(encoding="utf-8")
FROM_RELEASE = reverse("admin:statements_statement_from_release")
SIXTEEN = [
    "American Muslims for Palestine (AMP)",
    "Americans for Justice in Palestine Action (AJP Action)",
    "Churches for Middle East Peace",
    "CODEPINK",
    "DAWN",
    "Disability Justice for Palestine",
    "International Association of Genocide Scholars",
    "Just Foreign Policy",
    "Lemkin Institute for Genocide Prevention & Human Security",
    "Migrant Roots Media",
    "National Iranian American Council",
    "Palestinian Christians for Justice",
    "Progressive Democrats of America \u2014 Greater Middle East Alliances",
    "USCPR Action",
    "Women's International League for Peace and Freedom, US Section (WILPF US)",
    "YUSRA Action",
]


def lines_of(text: str, found) -> str:
    all_lines = text.splitlines()
    return "\n".join(all_lines[n - 1] for n in found.lines)


def test_the_cmep_release_gives_its_title_date_place_contact_and_list(seeded):
    release = read_release(CMEP)
    assert release.title.value == (
        "Joint Statement by U.S. Organizations concerning the potential inclusion of "
        "Azerbaijan in the planned International Security Force for Gaza"
    )
    assert release.issued_on.value == datetime.date(2025, 11, 12)
    assert fold(release.place.value) == fold("Washington D.C.")
    assert release.email.value == "media@cmep.org"
    assert release.phone.value == "(202) 543-1222"
    assert [f.value for f in release.leads] == [
        "A New Policy",
        "Armenian National Committee of America (ANCA)",
    ]
    assert [f.value for f in release.signatories] == SIXTEEN
    assert release.ask.value.startswith("As such, we urge the international community")
    # Each field keeps the lines it came from.
    assert "November 12, 2025" in lines_of(CMEP, release.issued_on)
    assert "media@cmep.org" in lines_of(CMEP, release.email)
    assert "Led by" in lines_of(CMEP, release.leads[0])
    assert "CODEPINK" in lines_of(CMEP, release.signatories[3])


def test_the_anca_release_gives_its_quotes_and_its_list_in_prose(seeded):
    release = read_release(ANCA)
    assert release.issued_on is None  # the release is undated: left blank
    assert release.place.value == "WASHINGTON, DC"
    assert release.title.value.startswith("Statement by U.S. Organizations concerning")
    speakers = [(q.value.speaker, q.value.speaker_title) for q in release.quotes]
    assert speakers == [
        ("Josh Paul", "Executive Director of A New Policy"),
        ("Aram Hamparian", "ANCA Executive Director"),
    ]
    first = release.quotes[0].value.text
    assert first.startswith("The Armenian and Palestinian people both have a long history")
    assert first.endswith("is as absurd as it is shocking.")
    assert [f.value for f in release.leads] == ["ANCA", "A New Policy"]
    names = [f.value for f in release.signatories]
    assert len(names) == 16
    assert names[13] == "US Campaign For Palestinian Rights (USCPR Action)"
    assert (
        names[14]
        == "Women\u2019s International League for Peace and Freedom, US Section (WILPF US)"
    )
    assert release.email is None and release.phone is None


@pytest.mark.parametrize("text", ["", "\n\n", "x" * 5000, "Led by\nSignatories:\n\n", "“”said ."])
def test_text_with_nothing_to_read_leaves_everything_blank(seeded, text):
    release = read_release(text)
    assert release.issued_on is None and release.signatories == [] and release.quotes == []


def test_a_draft_is_made_from_the_release_and_its_list_previewed(staff_client, seeded):
    read = staff_client.post(FROM_RELEASE, {"text": CMEP, "_read": "1"})
    assert read.status_code == 200
    page = read.content.decode()
    assert "From line 11: Washington, D.C. - November 12, 2025" in page
    data = form_data(page)
    assert data["issued_on"] == "2025-11-12"
    assert data["email"] == "media@cmep.org"
    data["title"] = "A statement made from the release"
    made = staff_client.post(FROM_RELEASE, {**data, "_create": "1"}, follow=True)
    assert made.status_code == 200
    statement = Statement.objects.get(title="A statement made from the release")
    assert statement.status == "draft"
    assert statement.place == "Washington, D.C."
    assert statement.media_contacts.get().phone == "(202) 543-1222"
    preview = made.content.decode()
    assert "was made from the release" in preview
    roles = re.findall(r"Role: (\w+)\.", preview)
    assert roles.count("lead") == 2  # the leads, against the list's role of signatory
    confirm = {**form_data(preview), "_confirm": "1"}
    done = staff_client.post(
        reverse("admin:statements_statement_signatories", args=[statement.pk]), confirm
    )
    assert done.status_code == 302
    signatures = list(statement.signatures.order_by("position"))
    assert len(signatures) == 18
    assert [s.role for s in signatures[:3]] == ["lead", "lead", "signatory"]
    assert signatures[0].organization.slug == "a-new-policy"
    assert signatures[2].name_as_printed == "American Muslims for Palestine (AMP)"


def test_a_release_draft_keeps_its_quotes(staff_client, seeded):
    data = form_data(staff_client.post(FROM_RELEASE, {"text": ANCA, "_read": "1"}).content.decode())
    data["issued_on"] = "2025-11-12"  # not in the release: staff give it
    data["quote-1-use"] = ""  # the second quote left out
    data.pop("quote-1-use")
    assert staff_client.post(FROM_RELEASE, {**data, "_create": "1"}).status_code == 302
    statement = Statement.objects.get(title__startswith="Statement by U.S. Organizations")
    quote = statement.quotes.get()
    assert (quote.speaker, quote.speaker_title) == (
        "Josh Paul",
        "Executive Director of A New Policy",
    )


def test_bad_input_makes_nothing(staff_client, seeded):
    before = Statement.objects.count()
    assert staff_client.post(FROM_RELEASE, {"text": "", "_read": "1"}).status_code == 200
    data = form_data(staff_client.post(FROM_RELEASE, {"text": ANCA, "_read": "1"}).content.decode())
    response = staff_client.post(FROM_RELEASE, {**data, "_create": "1"})  # no date
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    data["issued_on"] = "2025-02-30"
    assert staff_client.post(FROM_RELEASE, {**data, "_create": "1"}).status_code == 200
    data.update(issued_on="2025-11-12", **{"quote-TOTAL_FORMS": "1000"})
    assert staff_client.post(FROM_RELEASE, {**data, "_create": "1"}).status_code == 200
    assert Statement.objects.count() == before


def test_only_staff_who_may_add_statements_start_one(
    client, django_user_model, seeded, staff_roles
):
    from django.contrib.auth.models import Group

    viewer = django_user_model.objects.create_user("vi", password="x", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(viewer)
    assert client.get(FROM_RELEASE).status_code == 403
