"""
The staff roles: "Editor" adds and changes everything staff curate; "Viewer" only looks.
Neither deletes: only superusers delete.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = {
    "organizations": ["organization", "othername"],
    "statements": ["topic", "statement", "signature", "mediacontact", "coveragelink", "quote"],
}
ROLES = {"Editor": ["add", "change", "view"], "Viewer": ["view"]}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations have run; create them now.
    for app_label in MODELS:
        app_config = apps.get_app_config(app_label)
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, actions in ROLES.items():
        codenames = [
            f"{action}_{model}" for models in MODELS.values() for model in models
            for action in actions
        ]  # fmt: skip
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label__in=list(MODELS), codename__in=codenames
            )
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("organizations", "0001_initial"),
        ("statements", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
