import sys

from django.core.management.base import BaseCommand, CommandError

from statements import export


class Command(BaseCommand):
    help = (
        "Export every topic, organisation and statement in the import format (YAML, or JSON "
        "for a .json file): a portable copy that import_statements reads back into any "
        "database. '-' writes YAML to standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to write (.yaml, .yml or .json), or -.")

    def handle(self, *args, path, **options):
        if path == "-":
            sys.stdout.write(export.dumps(export.export_data()))
            return
        if not path.endswith((".yaml", ".yml", ".json")):
            raise CommandError(f"{path}: give a file name ending in .yaml, .yml or .json.")
        try:
            counts = export.write(path)
        except OSError as exc:
            raise CommandError(f"{path}: cannot be written ({exc.strerror}).") from exc
        summary = ", ".join(f"{count} {section}" for section, count in counts.items())
        self.stdout.write(f"Exported {summary} to {path}.")
