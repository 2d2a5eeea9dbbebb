from django.core.management.base import BaseCommand, CommandError

from statements.services import ImportDataError, import_paths


class Command(BaseCommand):
    help = (
        "Import statements, organisations and topics from YAML or JSON files, or folders of "
        "them (see the README for the format). All-or-nothing, and safe to re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Files or folders to import.")

    def handle(self, *args, paths, **options):
        try:
            report = import_paths(paths)
        except ImportDataError as exc:
            raise CommandError(f"Nothing was imported. {exc}") from exc
        self.stdout.write(report.summary())
