import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from statements import derived


class Command(BaseCommand):
    help = (
        "Recompute what is derived from the signatures: every organisation's count of public "
        "statements and the co-signing table (statements/derived.py). Safe at any time; use "
        "it after writing to the database outside the product. With --check, change nothing: "
        "list every kept value that differs from a fresh computation, and exit with status 1 "
        "if any does."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only compare the kept values with a fresh computation.",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        if options["check"]:
            problems = derived.check()
            for problem in problems:
                self.stdout.write(problem)
            if problems:
                raise CommandError(
                    f"{len(problems)} discrepancies (at most {derived.SHOWN_DISCREPANCIES} of "
                    "each kind are listed): run manage.py rebuild_derived to mend them."
                )
            self.stdout.write(
                f"Derived data checked: all right ({time.monotonic() - started:.1f} s)."
            )
            return
        with transaction.atomic():
            derived.rebuild()
        self.stdout.write(f"Derived data rebuilt ({time.monotonic() - started:.1f} s).")
