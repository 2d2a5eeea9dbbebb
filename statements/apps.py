from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class StatementsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "statements"

    def ready(self):
        from .changes import drop_sqlite_triggers, install_sqlite_triggers

        # Schema upkeep, not domain logic: see statements.changes.
        pre_migrate.connect(drop_sqlite_triggers, sender=self)
        post_migrate.connect(install_sqlite_triggers, sender=self)
