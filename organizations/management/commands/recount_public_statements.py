from django.core.management.base import BaseCommand

from organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Recount every organisation's public statements (kept as signatures and statements "
        "change). Safe at any time; use it after writing to the database outside the product."
    )

    def handle(self, *args, **options):
        changed = Organization.objects.all().refresh_public_counts()
        self.stdout.write(f"Recounted {changed:,} organisations.")
