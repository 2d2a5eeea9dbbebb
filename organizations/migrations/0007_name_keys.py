"""
Names are stored normalised and compared by a key that folds case and look-alike characters
(organizations/names.py). This fills the key of every organisation and other name, stores
their names normalised, and then makes the keys unique.

If two existing organisations now have the same key (say "CODEPINK" and a "СODEPINK" typed
with a Cyrillic С), the migration stops before changing anything and lists them: decide
which record stands, merge the other into it or rename it, and migrate again.
"""

from collections import defaultdict

from django.db import migrations, models

from organizations.names import name_key, normalize_name


def _shown(name: str) -> str:
    """A name with its invisible and non-ASCII characters spelled out."""
    return ascii(name)


def fill_name_keys(apps, schema_editor):
    Organization = apps.get_model("organizations", "Organization")
    OtherName = apps.get_model("organizations", "OtherName")

    organizations = list(Organization.objects.only("pk", "slug", "name", "acronym"))
    other_names = list(OtherName.objects.only("pk", "organization_id", "name"))
    by_key = defaultdict(list)
    for row in organizations:
        row.name = normalize_name(row.name)
        row.acronym = normalize_name(row.acronym)
        row.name_key = name_key(row.name)
        by_key[row.name_key].append(row)
    aliases = defaultdict(list)
    for row in other_names:
        row.name = normalize_name(row.name)
        row.name_key = name_key(row.name)
        aliases[(row.organization_id, row.name_key)].append(row)

    problems = []
    for label, rows in (("organisation", organizations), ("other name", other_names)):
        for row in rows:
            if not row.name or len(row.name) > 300:
                problems.append(
                    f"  {label} id {row.pk}: normalised, its name would be "
                    f"{_shown(row.name)} ({len(row.name)} characters; 1 to 300 are allowed)"
                )
    for row in organizations:
        if len(row.acronym) > 50:
            problems.append(
                f"  organisation id {row.pk}: normalised, its acronym would be "
                f"{_shown(row.acronym)} ({len(row.acronym)} characters; up to 50 are allowed)"
            )
    for rows in by_key.values():
        if len(rows) > 1:
            listed = "; ".join(f"id {r.pk}, slug {r.slug!r}, name {_shown(r.name)}" for r in rows)
            problems.append(f"  these organisations have names that look the same: {listed}")
    for (organization_id, _), rows in aliases.items():
        if len(rows) > 1:
            listed = "; ".join(f"id {r.pk}, name {_shown(r.name)}" for r in rows)
            problems.append(
                f"  organisation id {organization_id} has other names that look the same: "
                f"{listed}"
            )
    if problems:
        raise RuntimeError(
            "Names that look the same must be made one, and names too long once normalised "
            "shortened, before this migration can make them unique. Merge or rename these "
            "organisations, delete the repeated other names (in the admin), then migrate again. Nothing was changed.\n" + "\n".join(problems)
        )

    Organization.objects.bulk_update(
        organizations, ["name", "acronym", "name_key"], batch_size=1000
    )
    OtherName.objects.bulk_update(other_names, ["name", "name_key"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0006_othername_withheld_until"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="name_key",
            field=models.TextField(default="", editable=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="othername",
            name="name_key",
            field=models.TextField(default="", editable=False),
            preserve_default=False,
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="othername",
            index=models.Index(fields=["name_key"], name="organizations_othername_key"),
        ),
        migrations.AddConstraint(
            model_name="organization",
            constraint=models.UniqueConstraint(
                fields=("name_key",),
                name="organizations_organization_unique_name_key",
                violation_error_message="An organisation with this name already exists "
                "(names are compared ignoring case and characters that look alike).",
            ),
        ),
        migrations.AddConstraint(
            model_name="othername",
            constraint=models.UniqueConstraint(
                fields=("organization", "name_key"),
                name="organizations_othername_unique_key_per_organization",
                violation_error_message="This organisation already has this other name "
                "(names are compared ignoring case and characters that look alike).",
            ),
        ),
    ]
