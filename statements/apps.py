from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate

from .change_triggers import drop_sqlite_triggers, install_after_migrate


class StatementsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "statements"

    def ready(self):
        # Schema upkeep, not domain logic: see statements.change_triggers.
        pre_migrate.connect(drop_sqlite_triggers, sender=self)
        post_migrate.connect(install_after_migrate, sender=self)
