"""
Other names and former slugs known only from a draft (statements.Withholding): each is
withheld (OtherName.withheld, FormerSlug.withheld: off public pages, the API and search; a
former slug does not redirect) exactly while its statement is not public. A merge of a
record known only from drafts makes them (statements.merging); publishing or taking back a
statement refreshes them (refresh_withheld); staff may release them early (release).
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Exists, F, OuterRef

from organizations.models import FormerSlug, OtherName

from .models import Statement, Withholding


def refresh_withheld(*, statement_ids: Iterable[int]) -> None:
    """
    After these statements were published, retracted or taken back to draft: the other
    names and former slugs that wait for them are withheld exactly while their statement is
    not public. Two UPDATEs, whatever the number of rows. Called by the publishing service.
    """
    ids = list(statement_ids)
    if not ids:
        return
    for model, link in ((OtherName, "other_name"), (FormerSlug, "former_slug")):
        waiting = Withholding.objects.filter(statement_id__in=ids, **{f"{link}__isnull": False})
        model.objects.filter(pk__in=waiting.values(link)).update(withheld=_withheld_now(link))


def release(*, withholdings: Iterable[Withholding]) -> None:
    """
    Staff release other names or former slugs before their draft is published: the
    withholdings go (with their history) and the names and slugs become public.
    """
    ids = [row.pk for row in withholdings]
    with transaction.atomic():
        rows = Withholding.objects.filter(pk__in=ids)
        names = list(rows.exclude(other_name=None).values_list("other_name_id", flat=True))
        slugs = list(rows.exclude(former_slug=None).values_list("former_slug_id", flat=True))
        for row in rows:
            row.delete()
        OtherName.objects.filter(pk__in=names).update(withheld=_withheld_now("other_name"))
        FormerSlug.objects.filter(pk__in=slugs).update(withheld=_withheld_now("former_slug"))


def withheld_problems() -> list[str]:
    """
    Other names and former slugs whose `withheld` is not what their withholding says (kept
    for the derived-data check): [] when every one is right.
    """
    problems = []
    for model, link in ((OtherName, "other_name"), (FormerSlug, "former_slug")):
        wrong = (
            model.objects.annotate(should=_withheld_now(link))
            .exclude(withheld=F("should"))
            .order_by("pk")
            .values_list("pk", "withheld")[:20]
        )
        for pk, withheld in wrong:
            problems.append(
                f"{model._meta.verbose_name} #{pk}: withheld is {withheld}, should be "
                f"{not withheld}"
            )
    return problems


def _withheld_now(link: str) -> Exists:
    """Whether the row has a withholding whose statement is not public (yet)."""
    return Exists(
        Withholding.objects.filter(**{link: OuterRef("pk")}).exclude(
            Statement.public_filter("statement__")
        )
    )


def withhold(*, row: OtherName | FormerSlug, statement: Statement | None, reason: str = "") -> None:
    """
    Make `row` (an other name or a former slug) known only from `statement`, or from no
    draft in particular if None: its withholding and its `withheld` as that says. For the
    importer, which reads the draft from the file.
    """
    link = "other_name" if isinstance(row, OtherName) else "former_slug"
    current = Withholding.objects.filter(**{link: row}).first()
    if statement is None:
        if current is not None:
            current._change_reason = reason
            current.delete()
    elif current is None or current.statement_id != statement.pk:
        current = current or Withholding(**{link: row})
        current.statement = statement
        current._change_reason = reason
        current.save()
    withheld = statement is not None and not statement.is_public
    if row.withheld != withheld:
        type(row).objects.filter(pk=row.pk).update(withheld=withheld)
        row.withheld = withheld


def rebuild_withheld() -> None:
    """Every other name's and former slug's `withheld` recomputed (manage.py rebuild_derived)."""
    for model, link in ((OtherName, "other_name"), (FormerSlug, "former_slug")):
        model.objects.update(withheld=_withheld_now(link))
