"""
The admin page that adds a list of signatories to a statement: paste or upload, preview
every line's match, change any of them, confirm.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from organizations.models import Organization
from tracker.admin_tools import SafeAutocompleteSelect, SafeModelChoiceField, valid_key

from . import signatory_lists
from .models import Signature, Statement
from .signatory_lists import ListError

RELEASE_SESSION_KEY = "statements.release_list"  # as admin_releases.SESSION_KEY

MAX_UPLOAD = 500 * 2**10  # bytes of CSV (see signatory_lists.MAX_TEXT)
FORM_FIELDS = 20  # the preview's fields besides those of each line, and to spare


class SignatoryListForm(forms.Form):
    """What staff give: the list (pasted, or a CSV file), the role and the date joined."""

    text = forms.CharField(
        label="Paste the list",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 80, "spellcheck": "false"}),
        help_text="One organisation per line, as printed. Bullets, numbering and OCR noise "
        "(“e ”, “o ”, “«”, “•”, “1.”) are removed; “Name (ACRONYM)” is understood.",
    )
    csv_file = forms.FileField(
        label="…or upload a CSV file",
        required=False,
        help_text="UTF-8, first line naming the columns: name (required), acronym, role, "
        "joined_on, withdrawn_on, withdrawal_reason. A row's role and dates replace the ones "
        "chosen below.",
    )
    role = forms.ChoiceField(choices=Signature.Role.choices, initial=Signature.Role.SIGNATORY)
    joined_on = forms.DateField(
        label="Date joined",
        required=False,
        widget=AdminDateWidget,
        help_text="Blank means the statement's issue date.",
    )
    # The preview carries an uploaded file's text and name to the confirmation, and the
    # lines staff dropped there (repeats), by number.
    csv_text = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    csv_name = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    dropped = forms.CharField(required=False, max_length=20_000, widget=forms.HiddenInput)

    def __init__(self, *args, statement: Statement, **kwargs):
        super().__init__(*args, **kwargs)
        self.statement = statement
        self.entries: list[signatory_lists.Entry] = []
        self.dropped: set[int] = set()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        upload = data.get("csv_file")
        text, csv_text = data.get("text") or "", data.get("csv_text") or ""
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                raise forms.ValidationError(
                    f"The file is {upload.size / 2**10:.0f} KB; the limit is "
                    f"{MAX_UPLOAD / 2**10:.0f} KB: split it."
                )
            csv_text = self._decode(upload.read())
            data["csv_text"], data["csv_name"] = csv_text, upload.name[:200]
        if text.strip() and csv_text:
            raise forms.ValidationError("Paste a list or upload a file, not both.")
        joined_on = data.get("joined_on") or self.statement.issued_on
        try:
            if csv_text:
                self.entries = signatory_lists.entries_from_csv(
                    csv_text, role=data["role"], joined_on=joined_on
                )
            else:
                self.entries = signatory_lists.entries_from_text(
                    text, role=data["role"], joined_on=joined_on
                )
        except ListError as exc:
            raise forms.ValidationError(exc.messages) from None
        self.dropped = self._dropped(data.get("dropped") or "")
        self.entries = [entry for entry in self.entries if entry.number not in self.dropped]
        if not self.entries:
            raise forms.ValidationError("Every line was dropped: nothing is left to add.")
        return data

    @staticmethod
    def _dropped(value: str) -> set[int]:
        numbers = [part.strip() for part in value.split(",") if part.strip()]
        if not all(part.isascii() and part.isdigit() and len(part) <= 7 for part in numbers):
            raise forms.ValidationError("The dropped lines were not understood: preview again.")
        return {int(part) for part in numbers}

    @staticmethod
    def _decode(data: bytes) -> str:
        try:
            return signatory_lists.decode_csv(data)
        except ListError as exc:
            raise forms.ValidationError(exc.messages) from None

    def carried(self) -> dict[str, str]:
        """What the preview page posts back, so the confirmation reads the same list."""
        data = self.cleaned_data
        return {
            "text": "" if data.get("csv_text") else data.get("text", ""),
            "csv_text": data.get("csv_text", ""),
            "csv_name": data.get("csv_name", ""),
            "role": data["role"],
            "joined_on": data["joined_on"].isoformat() if data.get("joined_on") else "",
            "dropped": ",".join(str(n) for n in sorted(self.dropped)),
        }

    @property
    def source(self) -> str:
        name = self.cleaned_data.get("csv_name")
        return f"Added from {name}" if name else "Added from a pasted list"


class OrganizationChoiceField(SafeModelChoiceField):
    """A line's organisation, looked up in one query for the whole list (`lookup`)."""

    lookup: dict[str, Organization] | None = None

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not valid_key(value) or str(value).strip() not in (self.lookup or {}):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return self.lookup[str(value).strip()]


class ChoicesForm(forms.Form):
    """One organisation per line; empty means a new organisation, named as printed."""

    def __init__(self, rows, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        names = [self.add_prefix(f"org_{i}") for i in range(len(rows))]
        if self.is_bound:
            ids = {str(self.data.get(name, "")).strip() for name in names}
            ids = {value for value in ids if valid_key(value)}
        else:
            ids = {str(row.match.organization.pk) for row in rows if row.match.organization}
        lookup = {str(o.pk): o for o in Organization.objects.filter(pk__in=ids)} if ids else {}
        db_field = Signature._meta.get_field("organization")
        for i, row in enumerate(rows):
            field = OrganizationChoiceField(
                queryset=Organization.objects.all(),
                required=False,
                label=f"Line {row.number}",
                widget=SafeAutocompleteSelect(db_field, admin.site),
                initial=row.match.organization.pk if row.match.organization else None,
            )
            field.lookup = lookup
            field.widget.prefetched = lookup
            self.fields[f"org_{i}"] = field
            # A new organisation's name and acronym, as staff correct them (blank: as
            # printed, without the acronym in brackets).
            line = row.entry.line
            self.fields[f"name_{i}"] = forms.CharField(
                label=f"Line {row.number}: name of the new organisation",
                required=False,
                max_length=signatory_lists.NAME_MAX,
                initial=line.base_name,
            )
            self.fields[f"acronym_{i}"] = forms.CharField(
                label=f"Line {row.number}: acronym",
                required=False,
                max_length=signatory_lists.ACRONYM_MAX,
                initial=line.acronym,
            )

    def choices(self) -> list[Organization | None]:
        return [self.cleaned_data[f"org_{i}"] for i in range(len(self.rows))]

    def names(self) -> dict[int, tuple[str, str]]:
        """The names staff gave new organisations, by row."""
        return {
            i: (self.cleaned_data[f"name_{i}"], self.cleaned_data[f"acronym_{i}"])
            for i in range(len(self.rows))
        }

    def lines(self):
        """Each preview row with its fields, for the template, in the order of the list."""
        return [
            (row, self[f"org_{i}"], self[f"name_{i}"], self[f"acronym_{i}"])
            for i, row in enumerate(self.rows)
        ]

    @property
    def names_editable(self) -> bool:
        """
        Whether the new organisations' names can be edited here: two fields each, with one
        a line and the list, must stay within Django's limit of fields a request posts.
        """
        new = sum(1 for row in self.rows if row.kind == "new")
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS or float("inf")
        return len(self.rows) + 2 * new + FORM_FIELDS <= limit

    def sections(self):
        """The rows by what they need, those that need a decision first."""
        lines = self.lines()
        return [
            (kind, [line for line in lines if line[0].kind == kind])
            for kind in signatory_lists.KINDS
        ]


def signatories_view(model_admin, request, object_id):
    if not valid_key(object_id):
        raise Http404("No such statement.")
    statement = model_admin.get_object(request, object_id)
    if statement is None:
        raise Http404("No such statement.")
    if not model_admin.has_change_permission(request, statement):
        raise PermissionDenied
    change_url = reverse("admin:statements_statement_change", args=[statement.pk])
    choices_form = None
    problems: list[str] = []
    carried = {}
    data = request.POST if request.method == "POST" else _from_release(request, statement)
    if data is not None:
        files = request.FILES if request.method == "POST" else None
        form = SignatoryListForm(data, files, statement=statement)
        if form.is_valid():
            carried = form.carried()
            if "_drop_repeats" in request.POST:
                rows = signatory_lists.preview(statement, form.entries)
                form.dropped |= set(signatory_lists.repeats(rows))
                form.entries = [e for e in form.entries if e.number not in form.dropped]
                carried = form.carried()
                rows = signatory_lists.preview(statement, form.entries)
                choices_form = ChoicesForm(rows)
                problems = signatory_lists.check_choices(
                    statement, form.entries, [row.match.organization for row in rows]
                )
            elif "_add_matched" in request.POST:
                # One click: the lines matched outright, as matched; the rest wait.
                rows = [
                    row
                    for row in signatory_lists.preview(statement, form.entries)
                    if row.kind == "matched"
                ]
                try:
                    outcome = signatory_lists.add_signatories(
                        statement,
                        [row.entry for row in rows],
                        [row.match.organization for row in rows],
                        reason=form.source,
                        user=request.user,
                    )
                except ListError as exc:
                    problems = exc.messages
                    rows = signatory_lists.preview(statement, form.entries)
                    choices_form = ChoicesForm(rows)
                else:
                    left = len(form.entries) - len(rows)
                    said = _summary(outcome)
                    if left:
                        said += f" {left} line{'s' if left != 1 else ''} not matched outright "
                        said += "were left out: paste them again to decide them."
                    model_admin.message_user(request, said, messages.SUCCESS)
                    return HttpResponseRedirect(change_url)
            elif "_confirm" in request.POST:
                # Staff's choices are posted: the lines are matched again only to show the
                # page again, if something is wrong with them.
                rows = signatory_lists.unmatched(form.entries)
                choices_form = ChoicesForm(rows, request.POST)
                if choices_form.is_valid():
                    try:
                        entries = signatory_lists.renamed(form.entries, choices_form.names())
                        outcome = signatory_lists.add_signatories(
                            statement,
                            entries,
                            choices_form.choices(),
                            reason=form.source,
                            user=request.user,
                            # What the preview proposed, for staff's answers to be kept.
                            proposed=signatory_lists.preview(statement, entries),
                        )
                    except ListError as exc:
                        choices_form.add_error(None, exc.messages)
                    else:
                        model_admin.message_user(request, _summary(outcome), messages.SUCCESS)
                        return HttpResponseRedirect(change_url)
                choices_form.rows = signatory_lists.preview(statement, form.entries)
            else:
                rows = signatory_lists.preview(statement, form.entries)
                choices_form = ChoicesForm(rows)
                problems = signatory_lists.check_choices(
                    statement, form.entries, [row.match.organization for row in rows]
                )
    else:
        form = SignatoryListForm(statement=statement)
    media = model_admin.media + form.media
    if choices_form is not None:
        media += choices_form.media
    rows = choices_form.rows if choices_form is not None else []
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Add signatories to “{statement}”",
        "counts": signatory_lists.counts(rows),
        "repeats": signatory_lists.repeats(rows),
        "opts": model_admin.model._meta,
        "original": statement,
        "statement": statement,
        "change_url": change_url,
        "form": form,
        "choices_form": choices_form,
        "problems": problems,
        "carried": carried,
        "role_label": Signature.Role(carried["role"]).label.lower() if carried else "",
        "media": media,
    }
    template = (
        "admin/statements/statement/signatories_preview.html"
        if choices_form is not None
        else "admin/statements/statement/signatories.html"
    )
    return TemplateResponse(request, template, context)


def _from_release(request, statement) -> dict | None:
    """The list of a draft just made from its press release (admin_releases), once."""
    if request.GET.get("from") != "release":
        return None
    kept = request.session.get(RELEASE_SESSION_KEY)
    if not kept or kept.get("statement") != statement.pk:
        return None
    del request.session[RELEASE_SESSION_KEY]
    return {"csv_text": kept["csv"], "csv_name": "the press release", "role": "signatory"}


def _summary(outcome: signatory_lists.Outcome) -> str:
    parts = [f"Added {len(outcome.added)} signature{'s' if len(outcome.added) != 1 else ''}"]
    if outcome.created:
        parts.append(
            f"created {len(outcome.created)} new organisation"
            f"{'s' if len(outcome.created) != 1 else ''}"
        )
    if outcome.skipped:
        parts.append(f"skipped {len(outcome.skipped)} already on this statement")
    if outcome.judged:
        parts.append(
            f"kept {outcome.judged} answer{'s' if outcome.judged != 1 else ''} to the matcher "
            "(see the organisations' judgements)"
        )
    return ", ".join(parts) + "."
