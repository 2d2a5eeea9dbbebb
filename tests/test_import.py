"""The import command: all-or-nothing, idempotent, and precise about what is wrong."""

import io
import re
import shutil
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from organizations.models import Organization, OtherName
from statements import signing
from statements.importing import import_paths
from statements.merging import merge_organizations
from statements.models import CoverageLink, ImportedRecord, Signature, Statement, Topic

from . import factories
from .conftest import SEEDS

VALID = """
topics:
  - {slug: gaza, name: Gaza}
organizations:
  - slug: anca
    name: Armenian National Committee of America
    acronym: ANCA
    other_names: [{name: ANCA, kind: acronym}]
  - {slug: cmep, name: Churches for Middle East Peace}
statements:
  - slug: joint
    title: A joint statement
    status: published
    issued_on: 2025-11-12
    topics: [gaza]
    signatures:
      - organization: anca
        role: lead
        name_as_printed: Armenian National Committee of America (ANCA)
      - {organization: cmep, joined_on: 2025-11-13}
    media_contacts:
      - {organization: cmep, email: media@cmep.org, phone: "(202) 543-1222"}
    coverage:
      - {ref: politico, outlet: Politico, first_reported: true}
      - {outlet: ARY News, date: 2026}
      - {outlet: Ynet, date: 2026-01}
    quotes:
      - {speaker: Aram Hamparian, organization: anca, text: Words., source: politico}
"""


def snapshot() -> dict:
    """Every row of every table of the product, to compare before and after."""
    tables = {}
    for model in apps.get_models():
        if model._meta.app_label in ("statements", "organizations"):
            tables[model._meta.label] = list(model.objects.order_by("pk").values())
            for m2m in model._meta.local_many_to_many:
                through = m2m.remote_field.through
                tables[through._meta.label] = list(through.objects.order_by("pk").values())
    return tables


def write(tmp_path: Path, text: str, name="data.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_seed_folder_imports_and_a_second_import_changes_nothing(db):
    first = import_paths([SEEDS])
    assert first.created["statement"] == 5 and first.created["signature"] == 22
    before = snapshot()
    second = import_paths([SEEDS])
    assert not second.changed
    assert snapshot() == before


def test_the_command_reports_what_it_did(db, capsys):
    call_command("import_statements", str(SEEDS))
    assert "statements: 5 created" in capsys.readouterr().out
    call_command("import_statements", str(SEEDS))
    assert "Nothing changed" in capsys.readouterr().out


def test_partial_dates_and_defaults_are_read(db, tmp_path):
    import_paths([write(tmp_path, VALID)])
    statement = Statement.objects.get(slug="joint")
    assert [c.date_text for c in statement.coverage.all()] == ["", "2026", "2026-01"]
    assert [s.joined_on.isoformat() for s in statement.signatures.all()] == [
        "2025-11-12", "2025-11-13",
    ]  # fmt: skip
    assert statement.quotes.get().source.outlet == "Politico"


def test_a_changed_file_updates_records_in_place(db, tmp_path):
    import_paths([write(tmp_path, VALID)])
    ids = snapshot()
    changed = VALID.replace("title: A joint statement", "title: A better title").replace(
        "{outlet: ARY News, date: 2026}", "{outlet: ARY News, date: 2026-02-03}"
    )
    report = import_paths([write(tmp_path, changed)])
    assert report.updated["statement"] == 1 and report.updated["coverage link"] == 1
    assert report.created == {} or not +report.created
    after = snapshot()
    assert [r["id"] for r in after["statements.CoverageLink"]] == [
        r["id"] for r in ids["statements.CoverageLink"]
    ]
    assert Statement.objects.get(slug="joint").title == "A better title"


def test_moving_the_first_reported_flag_between_items_works(db, tmp_path):
    import_paths([write(tmp_path, VALID)])
    moved = VALID.replace("first_reported: true}", "first_reported: false}").replace(
        "{outlet: Ynet, date: 2026-01}", "{outlet: Ynet, date: 2026-01, first_reported: true}"
    )
    import_paths([write(tmp_path, moved)])
    statement = Statement.objects.get(slug="joint")
    assert statement.coverage.get(first_reported=True).outlet == "Ynet"


def test_a_bad_record_in_a_folder_rejects_the_whole_import(db, tmp_path):
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    bad = folder / "statements" / "2025-11-12-azerbaijan-isf-gaza-joint-statement.yaml"
    bad.write_text(
        bad.read_text(encoding="utf-8").replace(
            "organization: yusra-action", "organization: yusra-actoin"
        ),
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as error:
        call_command("import_statements", str(folder))
    message = str(error.value)
    assert message.startswith("Nothing was imported.")
    assert "2025-11-12-azerbaijan-isf-gaza-joint-statement.yaml" in message
    assert "signatures[17]: organization: no organisation with slug “yusra-actoin”" in message
    assert all(rows == [] for rows in snapshot().values())


def test_a_bad_record_leaves_existing_data_exactly_as_it_was(db, tmp_path):
    import_paths([SEEDS])
    before = snapshot()
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    # A good change to an organisation (written first)...
    organizations = folder / "organizations.yaml"
    organizations.write_text(
        organizations.read_text(encoding="utf-8").replace("name: CODEPINK", "name: CODEPINK X"),
        encoding="utf-8",
    )
    # ...and a bad record in the last statement file read.
    last = sorted((folder / "statements").iterdir())[-1]
    last.write_text(
        last.read_text(encoding="utf-8").replace("role: signatory", "role: sponsor"),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="role: Value 'sponsor' is not a valid choice"):
        call_command("import_statements", str(folder))
    assert snapshot() == before


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "title: A joint statement",
            "title: A joint statement\n    colour: red",
            "statements[0] (slug “joint”): unknown field(s) colour.",
        ),
        (
            "issued_on: 2025-11-12",
            "issued_on: 2025-13-01",
            "statements[0] (slug “joint”): issued_on: “2025-13-01” is not a date; use YYYY-MM-DD.",
        ),
        (
            "issued_on: 2025-11-12",
            "issued_on:",
            "statements[0] (slug “joint”): issued_on: this field is required.",
        ),
        (
            "{outlet: ARY News, date: 2026}",
            "{outlet: ARY News, date: 2026-02-30}",
            "coverage[1]: date: “2026-02-30” is not a real date",
        ),
        (
            "{outlet: ARY News, date: 2026}",
            "{outlet: ARY News, date: last year}",
            "coverage[1]: date: “last year” is not a date: use YYYY, YYYY-MM or YYYY-MM-DD",
        ),
        (
            "{outlet: ARY News, date: 2026}",
            "{outlet: ARY News, url: not-a-url}",
            "coverage[1]: url: Enter a valid URL.",
        ),
        (
            "{outlet: ARY News, date: 2026}",
            "{outlet: ARY News, first_reported: true}",
            "coverage[1]: Another coverage item of this statement is already marked as first "
            "reported.",
        ),
        (
            "role: lead\n",
            "role: leader\n",
            "signatures[0]: role: Value 'leader' is not a valid choice.",
        ),
        (
            "{organization: cmep, joined_on: 2025-11-13}",
            "{organization: cmep, joined_on: 2025-11-13, withdrawn_on: 2025-11-01}",
            "signatures[1]: The withdrawal date cannot be before the date joined.",
        ),
        (
            "{organization: cmep, joined_on: 2025-11-13}",
            "{organization: cmep}\n      - {organization: cmep}",
            "signatures[2]: organization: “cmep” already signed this statement",
        ),
        (
            "{organization: cmep, joined_on: 2025-11-13}",
            "{organization: nobody}",
            "signatures[1]: organization: no organisation with slug “nobody”; define it under",
        ),
        (
            "topics: [gaza]",
            "topics: [gaza, gazza]",
            "statements[0] (slug “joint”): topics: no topic with slug “gazza”",
        ),
        (
            "source: politico}",
            "source: politco}",
            "quotes[0]: source: no coverage item of this statement has ref “politco”.",
        ),
        (
            "{slug: cmep, name: Churches for Middle East Peace}",
            "{slug: cmep, name: armenian  national committee of AMERICA}",
            "organizations[1] (slug “cmep”): name: An organisation with this name already exists",
        ),
        (
            'email: media@cmep.org, phone: "(202) 543-1222"',
            "name: Press office",
            "media_contacts[0]: Give an email address or a phone number.",
        ),
        (
            "{slug: gaza, name: Gaza}",
            "{slug: gaza, name: Gaza}\n  - {slug: gaza, name: Other}",
            "topics[1] (slug “gaza”): slug: also defined at",
        ),
        (
            "status: published",
            "status: public",
            "statements[0] (slug “joint”): status: Value 'public' is not a valid choice.",
        ),
        (
            "status: published",
            "status: [published]",
            "statements[0] (slug “joint”): status: expected text, got a list.",
        ),
    ],
)
def test_a_bad_record_names_the_file_record_and_field_and_writes_nothing(
    db, tmp_path, old, new, message
):
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(CommandError) as error:
        call_command("import_statements", str(path))
    assert f"Nothing was imported. {path}: " in str(error.value)
    assert message in str(error.value)
    assert all(rows == [] for rows in snapshot().values())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"statements: [\n", "line 2: not valid YAML"),
        (b"- just a list\n", "the file must be a mapping"),
        (b"", "the file is empty."),
        (b"people: []\n", "unknown top-level key(s) people"),
        (b"statements: {slug: x}\n", "“statements” must be a list of records."),
        ("topics: [{slug: caf\xe9, name: Caf\xe9}]\n".encode("latin-1"), "not UTF-8 text"),
        (b'topics: [{slug: a, name: "x\\0y"}]\n', "name: contains a NUL byte."),
        (b"topics: [{slug: a}]\n", "topics[0] (slug “a”): name: this field is required."),
        (b"topics: [7]\n", "topics[0]: expected a mapping of fields"),
        (b"topics: [{slug: a, name: A, name: B}]\n", "the key \u201cname\u201d is given twice"),
        (b'{"topics": [{"slug": "a", "slug": "b"}]}', "the key \u201cslug\u201d is given twice"),
        (b'topics: [{slug: a, name: "x\\ud800y"}]\n', "name: contains a character that is not"),
        (b"topics: " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (
            b'statements: [{slug: s, title: T, issued_on: 2025-11-12, topics: ["a\\0"]}]',
            "topics: contains a NUL byte.",
        ),
        (
            b"organizations: [{slug: o, name: O, founded_year: 99999999999999999999}]",
            "founded_year: 99999999999999999999 is out of range.",
        ),
        (
            b"organizations: [{slug: o, name: O, founded_year: 1984.5}]",
            "founded_year: expected a whole number, got \u201c1984.5\u201d.",
        ),
        (
            b"statements: [{slug: s, title: T, issued_on: 2025-11-12, "
            b"published_at: '9999-12-31T23:00:00-05:00'}]",
            "published_at: \u201c9999-12-31T23:00:00-05:00\u201d is out of range.",
        ),
        (
            b"statements: [{slug: s, title: T, issued_on: 2025-11-12, published_at: 2025-11-12}]",
            "published_at: give a time zone",
        ),
    ],
)
def test_malformed_files_are_rejected_with_a_clear_message(db, tmp_path, content, message):
    path = tmp_path / ("bad.json" if content.startswith(b"{") else "bad.yaml")
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        call_command("import_statements", str(path))
    assert message in str(error.value)
    assert all(rows == [] for rows in snapshot().values())


def test_json_files_use_the_same_format(db, tmp_path):
    path = write(tmp_path, '{"topics": [{"slug": "gaza", "name": "Gaza"}]}', "topics.json")
    assert import_paths([path]).created["topic"] == 1


def test_a_missing_path_is_an_error(db, tmp_path):
    with pytest.raises(CommandError, match="no such file or folder"):
        call_command("import_statements", str(tmp_path / "nope"))
    with pytest.raises(CommandError, match=r"no \.yaml, \.yml or \.json files"):
        call_command("import_statements", str(tmp_path))


def test_the_readme_example_imports(seeded, tmp_path):
    """The format documented in the README is the format the importer accepts."""
    readme = (SEEDS.parent / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    report = import_paths([write(tmp_path, example)])
    assert report.created["statement"] == 1 and report.created["signature"] == 1
    assert not report.updated and not report.deleted


def test_yaml_values_are_read_as_text_not_guessed(db, tmp_path):
    import_paths([write(tmp_path, VALID.replace('phone: "(202) 543-1222"', "phone: 0202")
                       .replace("name: Gaza}", "name: No}"))])  # fmt: skip
    assert Statement.objects.get().media_contacts.get().phone == "0202"
    assert Statement.objects.get().topics.get().name == "No"


def test_untidy_spacing_in_a_file_imports_the_same_twice(db, tmp_path):
    untidy = VALID.replace(
        "name: Churches for Middle East Peace", "name: Churches  for Middle East Peace "
    )
    untidy = untidy.replace("{name: ANCA, kind: acronym}", "{name: ' A  N C A', kind: acronym}")
    untidy = untidy.replace(
        "name_as_printed: Armenian National", "name_as_printed: Armenian  National"
    )
    path = write(tmp_path, untidy)
    import_paths([path])
    before = snapshot()
    assert not import_paths([path]).changed
    assert snapshot() == before
    assert Organization.objects.get(slug="cmep").name == "Churches for Middle East Peace"


# --- Re-importing over staff's work -------------------------------------------------------

JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"


def run(*args) -> str:
    """The import command's output."""
    out = io.StringIO()
    call_command("import_statements", *map(str, args), stdout=out)
    return out.getvalue()


def _staff_work():
    """The issue's scenario: staff add a signatory to the seeded joint statement, and merge
    a duplicate record into DAWN, which gives DAWN an acronym and another name."""
    joint = Statement.objects.get(slug=JOINT)
    newcomer = factories.organization(name="Newcomer Network", slug="newcomer-network")
    signing.add_signature(statement=joint, organization=newcomer, position=19)
    duplicate = factories.organization(
        name="Democracy for the Arab World Now", slug="democracy-for-the-arab-world-now"
    )
    duplicate.acronym = "DAWN"
    duplicate.save()
    merge_organizations(keep=Organization.objects.get(slug="dawn"), other=duplicate)
    dawn = Organization.objects.get(slug="dawn")
    assert dawn.acronym == "DAWN"
    assert dawn.other_names.filter(name="Democracy for the Arab World Now").exists()


def _staff_work_is_there() -> bool:
    dawn = Organization.objects.get(slug="dawn")
    return (
        Signature.objects.filter(
            statement__slug=JOINT, organization__slug="newcomer-network"
        ).exists()
        and dawn.acronym == "DAWN"
        and dawn.other_names.filter(name="Democracy for the Arab World Now").exists()
    )


def test_importing_the_seeds_again_keeps_what_staff_added_and_says_so(seeded):
    _staff_work()
    before = snapshot()
    out = run(SEEDS)
    assert snapshot() == before
    assert _staff_work_is_there()
    assert "removed" not in out.replace("0 removed", "")
    assert "Kept 3 change(s) made in the database since the last import" in out
    assert f"statement “{JOINT}”: signature of “newcomer-network”: added in the database" in out
    assert "organisation “dawn”: acronym: “DAWN” (the file: (blank))" in out
    assert (
        "organisation “dawn”: other name “Democracy for the Arab World Now”: added in the "
        "database, not in the file" in out
    )
    assert "Nothing changed: the database already matches the files, apart from" in out


def test_replace_with_a_dry_run_lists_what_would_go_and_changes_nothing(seeded):
    _staff_work()
    before = snapshot()
    out = run(SEEDS, "--replace", "--dry-run")
    assert snapshot() == before
    assert _staff_work_is_there()
    assert "Dry run: nothing was written. The import would make these changes:" in out
    assert f"  remove statement “{JOINT}”: signature of “newcomer-network”" in out
    assert "  change organisation “dawn”: acronym: “DAWN” → (blank)" in out
    assert "  remove organisation “dawn”: other name “Democracy for the Arab World Now”" in out


def test_replace_makes_the_records_match_the_files(seeded):
    _staff_work()
    out = run(SEEDS, "--replace")
    assert "signatures: 0 created, 0 updated, 1 removed" in out
    dawn = Organization.objects.get(slug="dawn")
    assert dawn.acronym == "" and not dawn.other_names.exists()
    assert not Signature.objects.filter(organization__slug="newcomer-network").exists()
    # The merge's redirect stays: files only ever add former slugs.
    assert dawn.former_slugs.filter(slug="democracy-for-the-arab-world-now").exists()
    assert not import_paths([SEEDS]).changed


def test_a_dry_run_without_replace_lists_what_an_import_would_create(db):
    out = run(SEEDS, "--dry-run")
    assert f"  create statement “{JOINT}”" in out
    assert "  create organisation “dawn”" in out
    assert all(rows == [] for rows in snapshot().values())


def test_a_file_edited_after_an_import_applies_where_staff_changed_nothing(db, tmp_path):
    import_paths([write(tmp_path, VALID)])
    statement = Statement.objects.get(slug="joint")
    # Staff correct the place and the CMEP signature's printed name, and add a coverage item.
    statement.place = "Washington, D.C."
    statement.save()
    cmep = statement.signatures.get(organization__slug="cmep")
    cmep.name_as_printed = "CMEP"
    cmep.save()
    CoverageLink.objects.create(statement=statement, outlet="Staff Found This", position=4)
    # The file, meanwhile: a new title, a changed date, a new signatory, the ANCA quote gone,
    # and its own idea of the CMEP printed name and of the place.
    edited = (
        VALID.replace("title: A joint statement", "title: A better title\n    place: Yerevan")
        .replace("{outlet: ARY News, date: 2026}", "{outlet: ARY News, date: 2026-02-03}")
        .replace(
            "{organization: cmep, joined_on: 2025-11-13}",
            "{organization: cmep, joined_on: 2025-11-13, name_as_printed: Churches}\n"
            "      - {organization: newer}",
        )
        .replace("  - {slug: cmep,", "  - {slug: newer, name: Newer}\n  - {slug: cmep,")
        .replace("    quotes:\n      - {speaker: Aram Hamparian, organization: anca, "
                 "text: Words., source: politico}\n", "")
    )  # fmt: skip
    assert edited.count("Newer") == 1 and "quotes" not in edited
    report = import_paths([write(tmp_path, edited)])
    statement.refresh_from_db()
    assert statement.title == "A better title"  # the file's change, on a field staff left
    assert statement.place == "Washington, D.C."  # staff's change stands over the file's
    assert statement.coverage.get(outlet="ARY News").date_text == "2026-02-03"
    assert statement.coverage.filter(outlet="Staff Found This").exists()
    assert statement.signatures.get(organization__slug="cmep").name_as_printed == "CMEP"
    assert list(statement.signatures.values_list("organization__slug", flat=True)) == [
        "anca", "cmep", "newer",
    ]  # fmt: skip
    assert not statement.quotes.exists()  # untouched since the import: the file removed it
    assert report.deleted["quote"] == 1
    assert "statement “joint”: place: “Washington, D.C.” (the file, changed too: “Yerevan”)" in (
        report.kept_details
    )
    assert any("coverage link “Staff Found This”: added in the database" in line
               for line in report.kept_details)  # fmt: skip
    # Once more: nothing to do, and staff's changes are still reported as kept.
    again = import_paths([write(tmp_path, edited)])
    assert not again.changed and len(again.kept_details) == len(report.kept_details)
    assert "statement “joint”: place: “Washington, D.C.” (the file: “Yerevan”)" in (
        again.kept_details
    )


def test_what_staff_deleted_is_not_imported_again_unless_replacing(seeded):
    Signature.objects.get(statement__slug=JOINT, organization__slug="codepink").delete()
    Topic.objects.get(slug="peacekeeping").delete()
    Organization.objects.get(slug="armenian-national-committee-of-america").other_names.get(
        name="ANCA"
    ).delete()
    dawn = Organization.objects.get(slug="dawn")
    dawn.signatures.all().delete()
    dawn.delete()
    before = snapshot()
    out = run(SEEDS)
    assert snapshot() == before
    gone = "deleted in the database since the last import, so not written again"
    assert f"statement “{JOINT}”: signature of “codepink”: {gone}" in out
    assert f"topic “peacekeeping”: {gone}" in out
    assert (
        f"organisation “armenian-national-committee-of-america”: other name “ANCA”: {gone}" in out
    )
    assert f"organisation “dawn”: {gone}" in out
    assert "not written, as the organisation “dawn” was deleted in the database" in out
    run(SEEDS, "--replace")
    assert Signature.objects.filter(statement__slug=JOINT, organization__slug="codepink").exists()
    assert Statement.objects.get(slug=JOINT).topics.filter(slug="peacekeeping").exists()
    assert Signature.objects.filter(statement__slug=JOINT, organization__slug="dawn").exists()
    assert not import_paths([SEEDS]).changed


def test_importing_an_export_into_the_same_database_leaves_staff_work_to_the_seeds(
    seeded, tmp_path
):
    """Each file's import compares with what that file last gave: importing an export (which
    holds staff's changes) does not make the seeds' next import take them back."""
    _staff_work()
    codepink = Organization.objects.get(slug="codepink")
    codepink.city = "Washington"
    codepink.save()
    backup = tmp_path / "backup.yaml"
    call_command("export_statements", str(backup), stdout=io.StringIO())
    assert not import_paths([backup]).changed
    out = run(SEEDS)
    assert _staff_work_is_there()
    assert Organization.objects.get(slug="codepink").city == "Washington"
    assert "organisation “codepink”: city: “Washington” (the file: (blank))" in out


def test_a_database_imported_before_fingerprints_were_kept_is_read_from_its_history(
    seeded, tmp_path
):
    """An import from before this version left no fingerprints: the rows' history tells
    which the import wrote last and which staff changed since."""
    ImportedRecord.objects.all().delete()
    _staff_work()
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    organizations = folder / "organizations.yaml"
    organizations.write_text(
        organizations.read_text(encoding="utf-8").replace("name: CODEPINK", "name: CODEPINK X"),
        encoding="utf-8",
    )
    report = import_paths([folder])
    assert _staff_work_is_there()
    assert Organization.objects.get(slug="codepink").name == "CODEPINK X"
    assert report.updated == {"organisation": 1}
    assert not report.deleted


def test_make_run_keeps_staff_work_on_a_real_database(tmp_path):
    """`make run`'s import step, run as it runs it, twice, with staff work in between."""
    from .production import base_env, manage

    makefile = (SEEDS.parent / "Makefile").read_text(encoding="utf-8")
    step = next(line for line in makefile.splitlines() if "import_statements" in line)
    arguments = step.split("manage.py", 1)[1].split()
    assert arguments == ["import_statements", "seeds/"]  # additive: no --replace
    env = base_env(f"sqlite:///{tmp_path / 'run.sqlite3'}")
    manage("migrate", "--noinput", env=env)
    manage(*arguments, env=env)
    manage(
        "shell",
        "-c",
        "from organizations.models import Organization; from statements.models import "
        "Signature, Statement; Signature.objects.create(statement=Statement.objects.get("
        f"slug='{JOINT}'), organization=Organization.objects.create(name='Newcomer', "
        "slug='newcomer'), position=19)",
        env=env,
    )
    out = manage(*arguments, env=env).stdout
    assert f"statement “{JOINT}”: signature of “newcomer”: added in the database" in out
    dry = manage(*arguments, "--replace", "--dry-run", env=env).stdout
    assert f"  remove statement “{JOINT}”: signature of “newcomer”" in dry

    def newcomer_signatures() -> str:
        return manage(
            "shell", "-c", "from statements.models import Signature; "
            "print(Signature.objects.filter(organization__slug='newcomer').count())", env=env,
        ).stdout.strip().splitlines()[-1]  # fmt: skip

    assert newcomer_signatures() == "1"
    manage(*arguments, "--replace", env=env)
    assert newcomer_signatures() == "0"


def test_the_first_reported_item_staff_chose_stands_when_the_file_moves_the_flag(db, tmp_path):
    import_paths([write(tmp_path, VALID)])
    statement = Statement.objects.get(slug="joint")
    statement.coverage.filter(outlet="Politico").update(first_reported=False)
    CoverageLink.objects.create(
        statement=statement, outlet="Staff Outlet", first_reported=True, position=4
    )
    moved = VALID.replace("first_reported: true}", "first_reported: false}").replace(
        "{outlet: Ynet, date: 2026-01}", "{outlet: Ynet, date: 2026-01, first_reported: true}"
    )
    report = import_paths([write(tmp_path, moved)])
    assert statement.coverage.get(first_reported=True).outlet == "Staff Outlet"
    assert any(
        "coverage link “Ynet”: first_reported: left off, as statement “joint”: coverage link "
        "“Staff Outlet” is marked first reported" in line
        for line in report.kept_details
    )
    before = snapshot()
    assert not import_paths([write(tmp_path, moved)]).changed
    assert snapshot() == before
    import_paths([write(tmp_path, moved)], replace=True)
    assert statement.coverage.get(first_reported=True).outlet == "Ynet"


# Parts moved to another record, and records merged, since the last import

TWO_ORGANISATIONS = """
organizations:
  - slug: alpha
    name: Alpha Group
    other_names: [{name: Alpha Alias}]
  - slug: beta
    name: Beta Group
    other_names: [{name: Beta Alias}]
statements:
  - slug: s1
    title: S1
    status: published
    issued_on: 2025-01-01
    signatures: [{organization: alpha}]
    media_contacts: [{organization: alpha, email: press@alpha.example}]
    coverage: [{outlet: Moved Outlet}]
    quotes: [{speaker: A. Speaker, organization: alpha, text: Words.}]
  - slug: s2
    title: S2
    status: published
    issued_on: 2025-01-02
    signatures: [{organization: beta}]
"""


def test_what_a_merge_moved_to_the_kept_record_survives_a_reimport(db, tmp_path):
    """A merge moves the other names of the record it removes to the one it keeps: the file
    has them under the removed record, the kept one's record does not list them."""
    path = write(tmp_path, TWO_ORGANISATIONS)
    import_paths([path])
    beta = Organization.objects.get(slug="beta")
    merge_organizations(keep=beta, other=Organization.objects.get(slug="alpha"))
    names = ["Alpha Alias", "Alpha Group", "Beta Alias"]
    assert sorted(beta.other_names.values_list("name", flat=True)) == names

    def data():  # the fingerprint of the moved signature follows it to its new organisation
        return {table: rows for table, rows in snapshot().items() if "ImportedRecord" not in table}

    before = data()
    dry = run(path, "--dry-run")
    assert "Dry run: nothing was written, and the import would change nothing." in dry
    assert (
        "organisation “beta”: other name “Alpha Alias”: moved here from another record in the "
        "database since the last import; the file does not have it here" in dry
    )
    for _ in range(2):
        report = import_paths([path])
        assert not report.changed
        assert data() == before
    assert sorted(beta.other_names.values_list("name", flat=True)) == names
    s1 = Statement.objects.get(slug="s1")
    assert s1.media_contacts.get().organization == beta
    assert s1.quotes.get().organization == beta
    assert s1.signatures.get().organization == beta


@pytest.mark.parametrize(("was", "now"), [("alpha", "beta"), ("beta", "alpha")])
def test_a_part_staff_moved_to_another_record_of_the_file_stays_where_they_put_it(
    db, tmp_path, was, now
):
    """Both records are in the file, in either order: the part is neither deleted where it is
    now (the file does not list it there) nor written again where the file has it."""
    path = write(tmp_path, TWO_ORGANISATIONS)
    import_paths([path])
    name = OtherName.objects.get(organization__slug=was)
    name.organization = Organization.objects.get(slug=now)  # as the other-name admin allows
    name.save()
    link = CoverageLink.objects.get()
    link.statement = Statement.objects.get(slug="s2")
    link.save()
    before = snapshot()
    report = import_paths([path])
    assert not report.changed
    assert snapshot() == before
    assert +report.kept == {"other name": 1, "coverage link": 1}  # each move said once
    assert (
        "statement “s1”: coverage link “Moved Outlet”: moved to statement “s2” in the database "
        "since the last import, so not written again here" in report.kept_details
    )
    assert not import_paths([path]).changed
    import_paths([path], replace=True)  # the file's places, exactly
    assert sorted(OtherName.objects.values_list("organization__slug", "name")) == [
        ("alpha", "Alpha Alias"), ("beta", "Beta Alias"),
    ]  # fmt: skip
    assert CoverageLink.objects.get().statement.slug == "s1"
    assert not import_paths([path]).changed


@pytest.mark.parametrize(("keep", "other"), [("dawn", "codepink"), ("codepink", "dawn")])
def test_the_seeds_import_again_after_merging_two_organisations_that_signed_one_statement(
    seeded, keep, other
):
    """All the seeded organisations sign the joint statement: a merge of any two makes their
    signatures one, and the seeds, which list both, still import (as `make run` does)."""
    merge_organizations(
        keep=Organization.objects.get(slug=keep), other=Organization.objects.get(slug=other)
    )
    before = snapshot()
    out = run(SEEDS)
    assert snapshot() == before
    assert (
        f"statement “{JOINT}”: signature of “{other}”: “{other}” was merged into “{keep}” in the "
        "database, and the merge made their signatures of this statement one, which stands"
    ) in out
    assert "Nothing changed: the database already matches the files, apart from" in out
    assert "the import would change nothing" in run(SEEDS, "--dry-run")
    run(SEEDS, "--replace")
    joint = Statement.objects.get(slug=JOINT)
    assert joint.signatures.filter(organization__slug=keep).count() == 1
    assert not joint.signatures.filter(organization__slug=other).exists()
    assert not import_paths([SEEDS]).changed


def test_a_statement_the_file_has_signed_twice_by_one_organisation_is_still_an_error(db, tmp_path):
    """Through one slug twice, or through a former slug the file itself gives."""
    twice = VALID.replace(
        "{organization: cmep, joined_on: 2025-11-13}",
        "{organization: cmep}\n      - {organization: cmep-inc}",
    ).replace(
        "{slug: cmep, name: Churches for Middle East Peace}",
        "{slug: cmep, name: Churches for Middle East Peace, former_slugs: [cmep-inc]}",
    )
    with pytest.raises(CommandError) as error:
        run(write(tmp_path, twice))
    assert (
        "signatures[2]: organization: “cmep-inc” (a former slug of “cmep”) already signed this "
        "statement at " in str(error.value)
    )
    assert all(rows == [] for rows in snapshot().values())
