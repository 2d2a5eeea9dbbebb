from django.core.management.base import BaseCommand, CommandError

from statements.importing import ImportDataError, import_paths


class Command(BaseCommand):
    help = (
        "Import statements, organisations and topics from YAML or JSON files, or folders of "
        "them (see the README for the format). All-or-nothing, and safe to re-run: records "
        "are created or brought up to date with the files, but a change made in the database "
        "since the last import (a signature added, a name corrected, a merge) is kept, and "
        "listed. --replace makes the records match the files exactly; --dry-run shows what "
        "an import would do and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Files or folders to import.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Make every record match its file exactly: overwrite and remove what was "
            "changed or added in the database since the last import. Try it with --dry-run "
            "first.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List every create, change and removal the import would make, and write nothing.",
        )

    def handle(self, *args, paths, replace, dry_run, **options):
        try:
            report = import_paths(paths, replace=replace, dry_run=dry_run)
        except ImportDataError as exc:
            raise CommandError(f"Nothing was imported. {exc}") from exc
        self.stdout.write(report.summary())
        if options["verbosity"] >= 2 and not dry_run:
            self.stdout.write("\n".join(f"  {action}" for action in report.actions))
