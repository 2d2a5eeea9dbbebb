"""
A history record told as a sentence staff read at a glance: "Changed by Jane Editor: role
signatory → lead; joined 2025-11-12 → 2025-11-13", with what kind of change it was when
the record says (a revert, an import, a merge, a list pasted), and who made it, or that no
one signed in did (a script or an import).
"""

from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

REVERTED = "Reverted to the version of "
# What a change reason says the change was, by how the reason begins.
KINDS = (
    (REVERTED, "revert"),
    ("Imported from ", "import"),
    ("Merged", "merge"),
    ("Added from ", "list"),
    ("Restored", "restore"),
    ("Judged", "judgement"),
)
ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}
SHOWN = 120  # characters of a value, at most


@dataclass
class Change:
    field: str
    old: str
    new: str

    def __str__(self):
        return f"{self.field} {self.old} → {self.new}"


@dataclass
class Entry:
    action: str  # Created, Changed, Deleted
    who: str  # a name, or "" when no one signed in made it
    kind: str  # revert, import, merge, list, restore, judgement, or ""
    reason: str
    changes: list[Change] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        by = f" by {self.who}" if self.who else " outside the admin (by a script or an import)"
        told = f"{self.action}{by}"
        if self.kind == "revert":
            told = f"{self.action}{by}, reverting: {self.reason[len('Reverted to ') :]}"
        if self.changes:
            told += ": " + "; ".join(str(change) for change in self.changes)
        elif self.action == "Changed":
            told += ": nothing shown here changed"
        return told


def who(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def kind_of(reason: str) -> str:
    return next((kind for start, kind in KINDS if reason.startswith(start)), "")


def describe(record, previous=None) -> Entry:
    """
    The record as an Entry; `previous` is the version before it (found when not given),
    which the changes are read against.
    """
    reason = record.history_change_reason or ""
    entry = Entry(
        action=ACTIONS.get(record.history_type, "Changed"),
        who=who(record.history_user),
        kind=kind_of(reason),
        reason=reason,
    )
    if record.history_type == "~":
        previous = previous if previous is not None else record.prev_record
        if previous is not None:
            delta = record.diff_against(previous)
            entry.changes = [_change(record, change) for change in delta.changes]
    return entry


def _change(record, change) -> Change:
    model_field = record.instance_type._meta.get_field(change.field)
    label = str(model_field.verbose_name)
    return Change(label, _shown(model_field, change.old), _shown(model_field, change.new))


def _shown(model_field, value) -> str:
    if value is None or value == "":
        return "(blank)"
    if isinstance(model_field, models.ForeignKey):
        try:
            related = model_field.related_model._base_manager.get(pk=value)
        except (ObjectDoesNotExist, ValueError, TypeError):
            return f"#{value} (gone)"
        return str(related)
    if model_field.choices:
        value = dict(model_field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
