"""
The portable export (manage.py export_statements): export, import into an empty database,
export again, and the two files are identical, on SQLite and on PostgreSQL alike.
"""

import datetime
import json
import re

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection

from organizations.models import FormerSlug, Organization, OtherName
from statements import signing
from statements.importing import import_paths
from statements.merging import merge_organizations
from statements.models import (
    CoverageLink,
    ImportedRecord,
    MediaContact,
    Quote,
    Signature,
    Statement,
    Topic,
)
from statements.publishing import publish, retract

from . import factories

pytestmark = pytest.mark.django_db

# Texts that a careless writer of YAML or JSON would get wrong: markers YAML reads as other
# types, quotes, comment and mapping signs, non-Latin scripts, lines with trailing spaces,
# Windows line ends and an emoji.
AWKWARD = [
    "yes",
    "null",
    "2025-11-12",
    "- not a list",
    "key: not a mapping",
    "# not a comment",
    "“Curly” and \"straight\" quotes, 'single' too",
    "Ünïcödé — عربي — Հայերեն — 中文 🕊",
    "Line one  \nline two with trailing spaces   \n\n  indented line",
    "Windows\r\nline ends",
    "<script>alert(1)</script>",
    "'; DROP TABLE statements_statement; --",
]


def _rich_data(seeded):
    """The seeds, plus every kind of record and field the import format holds."""
    topic = factories.topic(name=AWKWARD[6], description=AWKWARD[8])
    kept = factories.organization(
        name="Kept Organisation",
        acronym="KO",
        kind=Organization.Kind.FAITH_BASED,
        website="https://kept.example.org/",
        description=AWKWARD[7],
        country="Armenia",
        city="Yerevan",
        founded_year=1901,
        notes=AWKWARD[9],
    )
    OtherName.objects.create(organization=kept, name="K.O.", kind=OtherName.Kind.VARIANT)
    merged = factories.organization(name="Merged Away", slug="merged-away")
    withdrawer = factories.organization(name="Withdrawer", slug="withdrawer")
    statement = factories.statement(
        title=AWKWARD[0],
        slug="awkward",
        kind=Statement.Kind.OPEN_LETTER,
        issued_on=datetime.date(2024, 2, 29),
        place=AWKWARD[4],
        summary=AWKWARD[5],
        full_text="\n\n".join(AWKWARD),
        ask=AWKWARD[3],
        source_url="https://example.org/letter?a=1&b=2",
        notes=AWKWARD[11],
    )
    statement.topics.add(topic, Topic.objects.get(slug="gaza"))
    factories.signature(
        statement=statement,
        organization=kept,
        role=Signature.Role.LEAD,
        position=1,
        name_as_printed=AWKWARD[1],
    )
    factories.signature(
        statement=statement, organization=withdrawer, position=2,
        joined_on=datetime.date(2024, 3, 5), withdrawn_on=datetime.date(2024, 4, 1),
        withdrawal_reason=AWKWARD[2],
    )  # fmt: skip
    MediaContact.objects.create(
        statement=statement, organization=kept, name="Ana", email="ana@example.org",
        phone="+374 10 000000", position=1,
    )  # fmt: skip
    MediaContact.objects.create(
        statement=statement, name="Off record", phone="555", is_public=False, position=2
    )
    year = CoverageLink.objects.create(
        statement=statement, outlet="Yearly", date=datetime.date(2024, 1, 1),
        date_precision=CoverageLink.Precision.YEAR, position=1,
    )  # fmt: skip
    CoverageLink.objects.create(
        statement=statement, outlet="Monthly", headline=AWKWARD[10],
        url="https://news.example.org/a", date=datetime.date(2024, 3, 1),
        date_precision=CoverageLink.Precision.MONTH, kind=CoverageLink.Kind.OP_ED,
        first_reported=True, notes=AWKWARD[8], position=2,
    )  # fmt: skip
    Quote.objects.create(
        statement=statement, speaker="Speaker", speaker_title="Director",
        organization=kept, text=AWKWARD[7], source=year, position=1,
    )  # fmt: skip
    Quote.objects.create(statement=statement, speaker="Unsourced", text="Words.", position=2)
    draft = factories.statement(
        slug="a-draft", status=Statement.Status.DRAFT, title="A draft", signatories=1
    )
    factories.signature(statement=draft, organization=merged, position=2)
    another = factories.statement(slug="another", title="Another", signatories=1)
    factories.signature(statement=another, organization=merged, position=2)
    retracted = factories.statement(slug="retracted", title="Retracted", signatories=1)
    retract(statement=retracted, note="Withdrawn by its sponsors.")
    # Merging leaves a former slug that redirects: the export keeps it.
    merge_organizations(keep=kept, other=merged)
    assert FormerSlug.objects.filter(slug="merged-away", organization=kept).exists()


def _empty_the_database():
    """As a new database is: no records, and no memory of any import."""
    for model in (Statement, FormerSlug, Organization, Topic, ImportedRecord):
        model.objects.all().delete()
    assert not Signature.objects.exists() and not OtherName.objects.exists()


def _counts():
    models = (Topic, Organization, OtherName, FormerSlug, Statement, Signature, MediaContact)
    return {m.__name__: m.objects.count() for m in (*models, CoverageLink, Quote)}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_export_import_export_is_identical(seeded, tmp_path, suffix):
    _rich_data(seeded)
    before = _counts()
    first = tmp_path / f"first{suffix}"
    call_command("export_statements", str(first), stdout=open("/dev/null", "w"))  # noqa: SIM115

    _empty_the_database()
    call_command("import_statements", str(first), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _counts() == before

    second = tmp_path / f"second{suffix}"
    call_command("export_statements", str(second), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert second.read_bytes() == first.read_bytes()

    # The data itself came back, not just a file that repeats itself.
    statement = Statement.objects.get(slug="awkward")
    assert statement.full_text == "\n\n".join(AWKWARD)
    assert statement.title == "yes" and statement.issued_on == datetime.date(2024, 2, 29)
    kept = Organization.objects.get(name="Kept Organisation")
    assert kept.former_slugs.get().slug == "merged-away"
    assert Statement.objects.get(slug="a-draft").signatures.filter(organization=kept).exists()
    withdrawn = statement.signatures.get(position=2)
    assert withdrawn.organization.slug == "withdrawer"
    assert withdrawn.withdrawn_on == datetime.date(2024, 4, 1)
    assert withdrawn.withdrawal_reason == "2025-11-12"
    quote = statement.quotes.get(position=1)
    assert quote.source.outlet == "Yearly" and quote.source.date_precision == "year"
    assert not statement.media_contacts.get(position=2).is_public
    assert Statement.objects.get(slug="retracted").retraction_note == "Withdrawn by its sponsors."
    assert Statement.objects.get(slug="a-draft").status == Statement.Status.DRAFT


def test_the_export_moves_to_another_database_unchanged(seeded, tmp_path):
    """Exported here (SQLite or PostgreSQL), imported into a new SQLite file by the commands,
    exported there: the same file."""
    from .production import base_env, manage

    _rich_data(seeded)
    here = tmp_path / "here.yaml"
    call_command("export_statements", str(here), stdout=open("/dev/null", "w"))  # noqa: SIM115
    env = base_env(f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")
    manage("migrate", "--noinput", env=env)
    manage("import_statements", str(here), env=env)
    elsewhere = tmp_path / "elsewhere.yaml"
    manage("export_statements", str(elsewhere), env=env)
    assert elsewhere.read_text(encoding="utf-8") == here.read_text(encoding="utf-8")


def test_the_export_is_valid_yaml_and_json_holding_every_section(seeded, tmp_path):
    call_command("export_statements", str(tmp_path / "e.yaml"), stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("export_statements", str(tmp_path / "e.json"), stdout=open("/dev/null", "w"))  # noqa: SIM115
    from_yaml = yaml.safe_load((tmp_path / "e.yaml").read_text(encoding="utf-8"))
    from_json = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    assert from_yaml == from_json
    assert [len(from_json[s]) for s in ("topics", "organizations", "statements")] == [8, 18, 5]
    # No partial file is left beside the export, which only its owner can read (drafts,
    # staff notes and private contacts are in it).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.json", "e.yaml"]
    assert (tmp_path / "e.yaml").stat().st_mode & 0o777 == 0o600


def test_an_export_to_a_bad_place_is_refused_clearly(seeded, tmp_path):
    with pytest.raises(CommandError, match=r"ending in \.yaml, \.yml or \.json"):
        call_command("export_statements", str(tmp_path / "e.txt"))
    with pytest.raises(CommandError, match="cannot be written"):
        call_command("export_statements", str(tmp_path / "missing" / "e.yaml"))


def test_importing_a_former_slug_that_redirects_elsewhere_is_refused(seeded, tmp_path):
    other = Organization.objects.get(slug="codepink")
    FormerSlug.objects.create(organization=other, slug="old-name")
    data = {"organizations": [{"slug": "dawn", "name": "DAWN", "former_slugs": ["old-name"]}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match="“old-name” already redirects to “codepink”"):
        call_command("import_statements", str(path))
    assert FormerSlug.objects.get(slug="old-name").organization == other


@pytest.mark.django_db(transaction=True)
def test_postgresql_exports_read_one_snapshot():
    """On PostgreSQL the export runs in one repeatable-read, read-only transaction."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from statements import export

    seen = []
    original = export._export_data

    def spy():
        with connection.cursor() as cursor:
            cursor.execute("SHOW transaction_isolation")
            seen.append(cursor.fetchone()[0])
            cursor.execute("SHOW transaction_read_only")
            seen.append(cursor.fetchone()[0])
        return original()

    export._export_data = spy
    try:
        export.export_data()
    finally:
        export._export_data = original
    assert seen == ["repeatable read", "on"]


@pytest.mark.parametrize("order", ["former first", "organisation first"])
def test_a_former_slug_that_is_also_an_organisation_of_the_import_is_refused(db, tmp_path, order):
    claimer = {"slug": "claimer", "name": "Claimer", "former_slugs": ["victim"]}
    victim = {"slug": "victim", "name": "Victim"}
    records = [claimer, victim] if order == "former first" else [victim, claimer]
    path = tmp_path / "claim.json"
    path.write_text(json.dumps({"organizations": records}), encoding="utf-8")
    with pytest.raises(CommandError, match="“victim” is also an organisation of this import"):
        call_command("import_statements", str(path))
    assert not Organization.objects.exists() and not FormerSlug.objects.exists()


def test_a_backup_round_trip_keeps_every_time_and_place(seeded, client, tmp_path):
    """Exported, imported into an empty database: each record's created_at and updated_at
    and each part's position are the originals, so the sitemap and feeds say the same."""
    _rich_data(seeded)
    start = datetime.datetime(2025, 1, 1, 8, 30, tzinfo=datetime.UTC)
    for model in (Organization, Statement):
        for n, pk in enumerate(model.objects.order_by("pk").values_list("pk", flat=True)):
            model.objects.filter(pk=pk).update(
                created_at=start + datetime.timedelta(days=n, microseconds=n * 7),
                updated_at=start + datetime.timedelta(days=n + 30, hours=n, microseconds=n),
            )
    # Signatures removed from the middle of a list leave a gap: 1, 2, 5, 6, ...
    joint = Statement.objects.get(slug="2025-11-12-azerbaijan-isf-gaza-joint-statement")
    signing.remove_signatures(signatures=list(joint.signatures.filter(position__in=[3, 4])))
    Statement.objects.filter(pk=joint.pk).update(updated_at=start)
    # And a coverage item's and a quote's places that are not their places in the list.
    awkward = Statement.objects.get(slug="awkward")
    awkward.coverage.filter(position=2).update(position=7)
    awkward.quotes.filter(position=1).update(position=0)

    def times():
        return {
            (model.__name__, slug): (created, updated)
            for model in (Organization, Statement)
            for slug, created, updated in model.objects.values_list(
                "slug", "created_at", "updated_at"
            )
        }

    def places():
        return {
            (model.__name__, statement, str(part)): position
            for model, part in (
                (Signature, "organization__slug"),
                (MediaContact, "name"),
                (CoverageLink, "outlet"),
                (Quote, "speaker"),
            )
            for statement, part, position in model.objects.values_list(
                "statement__slug", part, "position"
            )
        }

    def published():
        # The sitemap lists records in the order of their ids, which a new database gives
        # anew: what it says of each address is what counts.
        sitemap = client.get("/sitemap.xml").content.decode()
        return {
            "sitemap": sorted(
                re.findall(r"<url><loc>(.*?)</loc>(?:<lastmod>(.*?)</lastmod>)?", sitemap)
            ),
        } | {
            url: client.get(url).content
            for url in (
                "/feeds/statements/",
                "/organizations/dawn/feed/",
                "/topics/gaza/feed/",
            )
        }

    before = (times(), places(), published())
    assert [p for (m, s, _), p in before[1].items() if m == "Signature" and s == joint.slug][
        :3
    ] == [1, 2, 5]
    assert sum(bool(lastmod) for _, lastmod in before[2]["sitemap"]) > 10
    backup = tmp_path / "backup.yaml"
    call_command("export_statements", str(backup), stdout=open("/dev/null", "w"))  # noqa: SIM115
    _empty_the_database()
    call_command("import_statements", str(backup), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert times() == before[0]
    # The history entry the import wrote shows the record as restored, too.
    assert (
        Statement.history.filter(slug="awkward").latest().created_at
        == (before[0]["Statement", "awkward"][0])
    )
    assert places() == before[1]
    assert published() == before[2]


def test_ordinary_import_files_need_no_times_or_positions(db, tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text(
        "organizations: [{slug: o, name: O}]\n"
        "statements: [{slug: s, title: T, issued_on: 2025-11-12, "
        "signatures: [{organization: o}]}]\n",
        encoding="utf-8",
    )
    call_command("import_statements", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    statement = Statement.objects.get(slug="s")
    assert statement.signatures.get().position == 1
    assert statement.created_at is not None and statement.updated_at >= statement.created_at


# Names known only from a draft, merged into a public record


NEWCOMER = "Blorptastic Peace Alliance"
WITHHELD = {NEWCOMER: "former", "BPA": "acronym", "Blorp Alliance": "variant"}


def _draft_only_record_merged_into_a_public_one() -> Statement:
    """A public record "pai", and one known only from the draft "secret-draft" merged into it:
    its name, acronym and other name are withheld until the draft is published."""
    public = factories.organization(name="Peace Alliance International", slug="pai")
    factories.signature(statement=factories.statement(slug="out"), organization=public)
    OtherName.objects.create(organization=public, name="PAI", kind=OtherName.Kind.ACRONYM)
    draft = factories.statement(status=Statement.Status.DRAFT, slug="secret-draft")
    newcomer = factories.organization(name=NEWCOMER, slug="blorptastic", acronym="BPA")
    OtherName.objects.create(organization=newcomer, name="Blorp Alliance")
    factories.signature(statement=draft, organization=newcomer)
    merge_organizations(keep=public, other=newcomer)
    return draft


def _shown_publicly(client, name: str) -> dict[str, bool]:
    """Where the public sees `name` as a name of "pai": its page, its API record, searches."""
    link = 'href="/organizations/pai/"'
    detail = client.get("/api/v1/organizations/pai/").json()
    found = client.get("/api/v1/organizations/", {"q": name}).json()["results"]
    return {
        "page": name in client.get("/organizations/pai/").content.decode(),
        "api detail": name in [other["name"] for other in detail["other_names"]],
        "api ?q=": [org["slug"] for org in found] == ["pai"],
        "organisations ?q=": link in client.get("/organizations/", {"q": name}).content.decode(),
        "search": link in client.get("/search/", {"q": name}).content.decode(),
    }


HIDDEN = dict.fromkeys(("page", "api detail", "api ?q=", "organisations ?q=", "search"), False)
SHOWN = dict.fromkeys(HIDDEN, True)


def test_names_withheld_until_a_draft_stay_hidden_after_a_backup_round_trip(db, client, tmp_path):
    _draft_only_record_merged_into_a_public_one()
    for name in WITHHELD:
        assert _shown_publicly(client, name) == HIDDEN, name
    first = tmp_path / "first.yaml"
    call_command("export_statements", str(first), stdout=open("/dev/null", "w"))  # noqa: SIM115

    _empty_the_database()
    call_command("import_statements", str(first), stdout=open("/dev/null", "w"))  # noqa: SIM115

    for name in WITHHELD:
        assert _shown_publicly(client, name) == HIDDEN, name
    public = Organization.objects.get(slug="pai")
    draft = Statement.objects.get(slug="secret-draft")
    assert {other.name: other.kind for other in public.other_names.all()} == {
        **WITHHELD,
        "PAI": "acronym",
    }
    waiting = public.other_names.values_list("name", "withholding__statement")
    assert dict(waiting) == {**dict.fromkeys(WITHHELD, draft.pk), "PAI": None}
    assert _shown_publicly(client, "PAI") == SHOWN
    second = tmp_path / "second.yaml"
    call_command("export_statements", str(second), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert second.read_bytes() == first.read_bytes()
    assert first.read_text(encoding="utf-8").count("withheld_until: secret-draft") == 3

    # Published in the new database, the draft makes its names public there too.
    publish(statement=draft)
    for name in WITHHELD:
        assert _shown_publicly(client, name) == SHOWN, name


def test_reimporting_an_export_with_withheld_names_changes_nothing(db, tmp_path):
    _draft_only_record_merged_into_a_public_one()
    path = tmp_path / "export.json"
    call_command("export_statements", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    _empty_the_database()
    assert import_paths([path]).created["other name"] == 4

    again = import_paths([path])
    assert not again.changed and not again.kept_details
    assert again.unchanged["other name"] == 4


def test_a_withheld_name_may_name_a_draft_of_a_later_file_or_of_the_database(db, tmp_path):
    """The organisations of an import are written before its statements: a name withheld
    until a draft of the same import waits for it, whichever file holds it."""
    names = {"slug": "named", "name": "Named", "other_names": [
        {"name": "Early Name", "withheld_until": "later-draft"},
        {"name": "Old Name", "withheld_until": "in-the-database"},
    ]}  # fmt: skip
    draft = {"slug": "later-draft", "title": "Later", "issued_on": "2025-01-02",
             "signatures": [{"organization": "named"}]}  # fmt: skip
    (tmp_path / "a.json").write_text(json.dumps({"organizations": [names]}), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"statements": [draft]}), encoding="utf-8")
    existing = factories.statement(status=Statement.Status.DRAFT, slug="in-the-database")

    import_paths([tmp_path])

    withheld = dict(
        OtherName.objects.filter(organization__slug="named").values_list(
            "name", "withholding__statement__slug"
        )
    )
    assert withheld == {"Early Name": "later-draft", "Old Name": existing.slug}
    assert not OtherName.objects.public().exists()


def test_a_withheld_name_naming_an_unknown_statement_is_refused(db, tmp_path):
    organization = {"slug": "named", "name": "Named", "other_names": [
        {"name": "Fine Name"}, {"name": "Lost Name", "withheld_until": "no-such-draft"},
    ]}  # fmt: skip
    statement = {"slug": "present", "title": "Present", "issued_on": "2025-01-02"}
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump({"organizations": [organization], "statements": [statement]}),
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as refused:
        call_command("import_statements", str(path))
    assert (
        "organizations[0] (slug “named”): other_names[1]: withheld_until: no statement with "
        "slug “no-such-draft”; define it under “statements”."
    ) in str(refused.value)
    assert not Organization.objects.exists() and not OtherName.objects.exists()
    assert not Statement.objects.exists()


def test_names_of_a_draft_staff_deleted_since_the_import_are_not_written_again(db, tmp_path):
    _draft_only_record_merged_into_a_public_one()
    path = tmp_path / "export.yaml"
    call_command("export_statements", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    _empty_the_database()
    import_paths([path])
    Statement.objects.get(slug="secret-draft").delete()  # and with it the names it vouched for
    assert set(OtherName.objects.values_list("name", flat=True)) == {"PAI"}

    again = import_paths([path])
    assert not again.changed
    assert set(OtherName.objects.values_list("name", flat=True)) == {"PAI"}
    assert (
        "organisation “pai”: other name “BPA” (withheld until the deleted statement "
        "“secret-draft”): deleted in the database since the last import, so not written again"
    ) in again.kept_details

    import_paths([path], replace=True)  # the file's word: the draft and its names come back
    draft = Statement.objects.get(slug="secret-draft")
    names = draft.withholdings.values_list("other_name__name", flat=True)
    assert set(names) == set(WITHHELD)
    assert not OtherName.objects.public().filter(name__in=WITHHELD).exists()


# Every public address that shows the organisation, its names or its signatures, as a page,
# JSON, CSV or feed (the searches are in _shown_publicly: their pages repeat the query).
PUBLIC_ADDRESSES = [
    "/",
    "/statements/",
    "/statements/out/",
    "/organizations/",
    "/organizations/pai/",
    "/organizations/pai/feed/",
    "/feeds/statements/",
    "/sitemap.xml",
    "/api/v1/organizations/",
    "/api/v1/organizations/?format=csv",
    "/api/v1/organizations/pai/",
    "/api/v1/organizations/pai/timeline/?format=csv",
    "/api/v1/organizations/pai/cosigners/",
    "/api/v1/statements/?signed_by=pai",
    "/api/v1/statements/out/",
    "/api/v1/signatures/?organization=pai",
    "/api/v1/signatures/?format=csv",
]


def test_no_public_address_tells_of_the_withheld_names_after_a_round_trip(db, client, tmp_path):
    _draft_only_record_merged_into_a_public_one()
    path = tmp_path / "export.yaml"
    call_command("export_statements", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    _empty_the_database()
    import_paths([path])
    for address in PUBLIC_ADDRESSES:
        response = client.get(address)
        assert response.status_code == 200, address
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode()
        for hidden in ("Blorp", "blorp", "BPA"):
            assert hidden not in text, (address, hidden)
