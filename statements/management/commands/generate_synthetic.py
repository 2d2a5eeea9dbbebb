import time

from django.core.management.base import BaseCommand, CommandError

from statements import synthetic


class Command(BaseCommand):
    help = (
        "Fill the (PostgreSQL) database with synthetic organisations, statements and "
        "signatures for benchmarks, skewed as real data is. Everything it makes is marked "
        "synthetic (slugs begin with 'synthetic-'); --delete removes it."
    )

    def add_arguments(self, parser):
        defaults = synthetic.Sizes()
        parser.add_argument("--organizations", type=int, default=defaults.organizations)
        parser.add_argument("--statements", type=int, default=defaults.statements)
        parser.add_argument("--signatures", type=int, default=defaults.signatures)
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed (same seed, same data)."
        )
        parser.add_argument(
            "--replace", action="store_true", help="Delete existing synthetic data first."
        )
        parser.add_argument("--delete", action="store_true", help="Only delete the synthetic data.")

    def handle(self, *args, **options):
        if options["delete"]:
            synthetic.delete()
            self.stdout.write("Synthetic data deleted.")
            return
        if synthetic.exists():
            if not options["replace"]:
                raise CommandError(
                    "The database already has synthetic data: add --replace to make it again, "
                    "or --delete to remove it."
                )
            synthetic.delete()
        sizes = synthetic.Sizes(
            options["organizations"], options["statements"], options["signatures"]
        )
        started = time.monotonic()
        try:
            made = synthetic.generate(
                sizes, seed=options["seed"], log=lambda line: self.stdout.write(f"  {line}")
            )
        except (RuntimeError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Made {made['organizations']:,} organisations, {made['statements']:,} statements "
            f"and {made['signatures']:,} signatures in {time.monotonic() - started:.1f} s."
        )
