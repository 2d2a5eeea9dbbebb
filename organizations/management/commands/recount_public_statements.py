from django.core.management.base import BaseCommand

from organizations.models import Organization
from statements import cosigning


class Command(BaseCommand):
    help = (
        "Recount every organisation's public statements and rebuild the co-signing table "
        "(both kept as signatures and statements change). Safe at any time; use it after "
        "writing to the database outside the product."
    )

    def handle(self, *args, **options):
        changed = Organization.objects.all().refresh_public_counts()
        self.stdout.write(f"Recounted {changed:,} organisations.")
        pairs = cosigning.rebuild()
        self.stdout.write(f"Rebuilt the co-signing table: {pairs:,} pairs of organisations.")
