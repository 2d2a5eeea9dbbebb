"""
Deleting a record so that it can be restored whole, and restoring it.

Deleting a statement deletes its signatures, media contacts, coverage and quotes with it;
deleting a topic takes it off its statements; deleting a coverage item clears the source of
the quotes that cited it. The history of each row records its own deletion, but not that it
went with another. So `delete_recorded` (the admin's only way to delete) marks every row
deleted or detached along with a record with one reason ending in the same stamp, and the
record's own deletion with how many there were. `restore_deleted` reads those marks back and
re-creates the record and everything that went with it, as it was when it was deleted, in
one transaction — or, if that cannot be done whole (something it referred to is gone, a row
it would re-create conflicts with one made since, its deletion was not recorded so), changes
nothing and says why. Restoring is a superuser's act, as deleting is (the admin checks).
"""

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models.deletion import Collector
from django.utils import timezone
from simple_history.models import registered_models

RESTORED = "Restored, with what was deleted with it"
_DELETED = re.compile(r"^Deleted with (?P<count>\d+) related record\(s\) \[(?P<stamp>[^\]]+)\]$")


def _tracked(model) -> bool:
    """Whether `model` keeps its history (django-simple-history)."""
    return hasattr(model._meta, "simple_history_manager_attribute")


def history_of(model):
    return getattr(model, model._meta.simple_history_manager_attribute)


def _part_reason(model, pk, stamp: str) -> str:
    return f"Deleted with {model._meta.verbose_name} #{pk} [{stamp}]"


# Deleting


def delete_recorded(*, obj: models.Model, user=None) -> int:
    """
    Delete `obj` and whatever the database deletes or detaches with it, marking each in its
    history, so that `restore_deleted` can bring it all back. Returns how many rows it marked.
    """
    stamp = timezone.now().isoformat(timespec="microseconds")
    reason = _part_reason(type(obj), obj.pk, stamp)
    using = router.db_for_write(type(obj))
    marked = 0

    def mark(row, why=reason):
        row._change_reason = why
        if user is not None:  # else the request's user, as for any save
            row._history_user = user

    with transaction.atomic(using=using):
        # Links from statements to a topic go one statement at a time, so that each
        # statement's history shows the topic leaving it.
        for relation in obj._meta.related_objects:
            if relation.many_to_many and _tracked(relation.related_model):
                for other in getattr(obj, relation.get_accessor_name()).all():
                    mark(other)
                    getattr(other, relation.field.name).remove(obj)
                    marked += 1
        # Rows the database would detach (SET_NULL) behind their history's back.
        collector = Collector(using=using, origin=obj)
        collector.collect([obj])
        deleted = {(type(o), o.pk) for rows in collector.data.values() for o in rows}
        for (relation_field, value), batches in collector.field_updates.items():
            for batch in batches:
                for row in list(batch):
                    if (type(row), row.pk) not in deleted and _tracked(type(row)):
                        setattr(row, relation_field.attname, value)
                        mark(row)
                        row.save()
                        marked += 1
        # Then the rows deleted with it; the record itself says how many went with it.
        collector = Collector(using=using, origin=obj)
        collector.collect([obj])
        for model, rows in collector.data.items():
            for row in rows:
                if (model, row.pk) != (type(obj), obj.pk) and _tracked(model):
                    mark(row)
                    marked += 1
        for row in collector.data[type(obj)]:
            if row.pk == obj.pk:
                mark(row, f"Deleted with {marked} related record(s) [{stamp}]")
        collector.delete()
    return marked


# Restoring


@dataclass
class RestorePlan:
    """What restoring a deleted record would re-create and re-attach."""

    record: object  # the record as it was when deleted (a historical instance)
    rows: list = field(default_factory=list)  # model instances to re-create, in order
    reattach: list = field(default_factory=list)  # (live row, field name, value)
    relink: list = field(default_factory=list)  # (live row, m2m field name, [ids])
    links: list = field(default_factory=list)  # the record's own many-to-many: (field, [ids])

    def counts(self) -> list[str]:
        """What goes with it, e.g. "18 signatures", for staff."""
        tally = defaultdict(int)
        for row in self.rows[1:]:
            tally[row._meta.verbose_name_plural] += 1
        for row, _name, _value in self.reattach:
            tally[f"{row._meta.verbose_name_plural} re-attached"] += 1
        for row, _name, _ids in self.relink:
            tally[f"{row._meta.verbose_name_plural} linked again"] += 1
        return [f"{n} {what}" for what, n in tally.items()]

    def summary(self) -> str:
        obj = self.rows[0]
        parts = self.counts()
        tail = f", with {', '.join(parts)}" if parts else ""
        return f"Restored the {obj._meta.verbose_name} “{obj}”{tail}."


def restore_plan(*, model, object_id) -> RestorePlan:
    """What restoring the deleted `model` #`object_id` would do, or a ValidationError why not."""
    name = model._meta.verbose_name
    history = history_of(model)
    if model.objects.filter(pk=object_id).exists():
        raise ValidationError(f"This {name} exists: revert it to an older version instead.")
    deletion = history.filter(id=object_id).order_by("-history_date", "-history_id").first()
    if deletion is None or deletion.history_type != "-":
        raise ValidationError(f"There is no deleted {name} with id {object_id}.")
    reason = deletion.history_change_reason or ""
    if reason.startswith("Merged "):
        raise ValidationError(
            f"This {name} was merged into another ({reason}): everything it had is there now, "
            "so it cannot be restored."
        )
    plan = RestorePlan(record=deletion)
    plan.rows.append(deletion.instance)
    before = history.filter(id=object_id, history_date__lte=deletion.history_date).exclude(
        history_type="-"
    )
    last_kept = before.order_by("-history_date", "-history_id").first()
    for m2m in getattr(deletion, "_history_m2m_fields", []):
        if last_kept is not None:
            target = m2m.related_model._meta.model_name
            ids = list(getattr(last_kept, m2m.name).values_list(f"{target}_id", flat=True))
            plan.links.append((m2m.name, ids))

    match = _DELETED.match(reason)
    if match is None:
        if _goes_with_others(model):
            raise ValidationError(
                f"This {name}'s deletion did not record what was deleted with it (it was "
                "deleted outside the admin, or before the admin recorded that), so it cannot be "
                "restored whole, and is not restored in part."
            )
    else:
        part_reason = _part_reason(model, object_id, match["stamp"])
        found = 0
        for part_model in _restorable_models():
            # Marked between the stamp and the deletion: the date range keeps to the index.
            marked = history_of(part_model).filter(
                history_date__gte=datetime.fromisoformat(match["stamp"]),
                history_date__lte=deletion.history_date,
                history_change_reason=part_reason,
            )
            for record in marked:
                found += 1
                if record.history_type == "-":
                    plan.rows.append(record.instance)
                else:
                    _plan_detachment(plan, part_model, record, model, object_id)
        if found != int(match["count"]):
            raise ValidationError(
                f"Its deletion took {match['count']} related record(s) with it, but the history "
                f"holds {found}: it cannot be restored whole, and is not restored in part."
            )
    plan.rows[1:] = _in_dependency_order(plan.rows[1:])
    _check(plan)
    return plan


def shown_as(row) -> str:
    """
    A row's name, as its __str__ gives it, or "#<id>" where that reads a record that no
    longer exists (an old version of a row deleted with what it belonged to).
    """
    try:
        return str(row)
    except ObjectDoesNotExist:
        return f"#{row.pk}"


def _label(row) -> str:
    """How staff know a row: its name where that needs nothing gone, else its id."""
    shown = shown_as(row)
    return f"{row._meta.verbose_name} {shown if shown.startswith('#') else f'“{shown}”'}"


def _restorable_models():
    tracked = {model for model in registered_models.values() if _tracked(model)}
    return sorted(tracked, key=lambda model: model._meta.label)


def _goes_with_others(model) -> bool:
    """Whether deleting a `model` row deletes or changes other rows with history."""
    for relation in model._meta.related_objects:
        if not _tracked(relation.related_model):
            continue
        if relation.many_to_many or relation.on_delete in (models.CASCADE, models.SET_NULL):
            return True
    return False


def _plan_detachment(plan, part_model, record, model, object_id):
    """A row changed, not deleted, by the deletion: put back its link to the record."""
    row = part_model.objects.filter(pk=record.id).first()
    previous = record.prev_record
    if row is None or previous is None:
        raise ValidationError(
            f"The {part_model._meta.verbose_name} #{record.id} it was linked to no longer "
            "exists: it cannot be restored whole, and is not restored in part."
        )
    for relation_field in part_model._meta.concrete_fields:
        if getattr(relation_field, "related_model", None) is model and getattr(
            previous, relation_field.attname
        ) == int(object_id):
            plan.reattach.append((row, relation_field.attname, int(object_id)))
    for m2m in getattr(record, "_history_m2m_fields", []):
        if m2m.related_model is model:
            plan.relink.append((row, m2m.name, [int(object_id)]))


def _in_dependency_order(rows: list) -> list:
    """Rows whose models others refer to first (a quote's source after its coverage item)."""
    models_ = {type(row) for row in rows}

    def depth(model, seen=()):
        refs = [
            f.related_model
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model in models_ and f.related_model not in seen
        ]
        return 1 + max((depth(ref, (*seen, model)) for ref in refs), default=0)

    return sorted(rows, key=lambda row: (depth(type(row)), type(row)._meta.label, row.pk))


def _check(plan: RestorePlan):
    """Everything each row refers to exists or is restored with it; nothing is in its way."""
    restoring = {(type(row), row.pk) for row in plan.rows}
    # One query per model: rows in the way, and rows referred to.
    wanted = defaultdict(set)  # model: ids that must exist
    taken = defaultdict(set)  # model: ids that must not
    for row in plan.rows:
        taken[type(row)].add(row.pk)
        for relation_field in row._meta.concrete_fields:
            value = getattr(row, relation_field.attname) if relation_field.is_relation else None
            if value is not None and (relation_field.related_model, value) not in restoring:
                wanted[relation_field.related_model].add(value)
    existing = {
        model: set(
            model._meta.base_manager.filter(pk__in=wanted[model] | taken[model]).values_list(
                "pk", flat=True
            )
        )
        for model in {*wanted, *taken}
    }
    for row in plan.rows:
        what = f"Its {_label(row)}" if row is not plan.rows[0] else "It"
        if row.pk in existing[type(row)]:
            raise ValidationError(f"{what} exists again: it cannot be restored twice.")
        for relation_field in row._meta.concrete_fields:
            value = getattr(row, relation_field.attname) if relation_field.is_relation else None
            target = relation_field.related_model if relation_field.is_relation else None
            if value is None or (target, value) in restoring or value in existing[target]:
                continue
            raise ValidationError(
                f"{what} refers to the {target._meta.verbose_name} #{value} "
                f"({relation_field.verbose_name}), which no longer exists: restore that "
                "first. Nothing was restored."
            )
    first = plan.rows[0]
    for m2m_name, ids in plan.links:
        target = first._meta.get_field(m2m_name).related_model
        missing = set(ids) - set(target.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if missing:
            raise ValidationError(
                f"It was on {target._meta.verbose_name} #{min(missing)}, which no longer exists:"
                " restore that first. Nothing was restored."
            )


def restore_deleted(
    *, model, object_id, user=None, then: Callable[[RestorePlan], None] | None = None
) -> RestorePlan:
    """
    Re-create the deleted `model` #`object_id` and everything deleted with it, as they were
    when deleted, and re-attach what was detached from it; all or nothing. `then`, given
    the plan, runs last in the same transaction: the app that owns data derived from the
    rows restored brings it up to date there (this module knows nothing of it).
    """
    with transaction.atomic():
        plan = restore_plan(model=model, object_id=object_id)
        for row in plan.rows:
            _mark_restored(row, user)
            try:
                row.validate_constraints()
                with transaction.atomic():
                    row.save(force_insert=True)
            except ValidationError as error:
                raise ValidationError(
                    f"The {_label(row)} cannot be restored: "
                    f"{' '.join(error.messages)} Nothing was restored."
                ) from None
            except IntegrityError:
                raise ValidationError(
                    f"The {_label(row)} cannot be restored: it conflicts with "
                    "a record made since. Nothing was restored."
                ) from None
        first = plan.rows[0]
        for m2m_name, ids in plan.links:
            getattr(first, m2m_name).set(ids)
        for row, attname, value in plan.reattach:
            setattr(row, attname, value)
            _mark_restored(row, user)
            row.save()
        for row, m2m_name, ids in plan.relink:
            _mark_restored(row, user)
            getattr(row, m2m_name).add(*ids)
        if then is not None:
            then(plan)
    return plan


def _mark_restored(row, user):
    row._change_reason = RESTORED
    if user is not None:
        row._history_user = user
