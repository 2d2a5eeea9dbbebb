"""
A statement's signatures on a page of their own, for statements too long to edit on the
statement's page (statements.admin.INLINE_SIGNATURES): a page of them at a time, searchable,
each page editable as a table, with actions on the selected (make lead sponsors or
signatories, set the date joined, withdraw with a reason, undo a withdrawal) and the order
reset by pasting the printed list. Each post stays far within Django's limit of fields, and
every write goes through statements.signing.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.forms import modelformset_factory
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from organizations.matching import Matcher, parse_pasted_list
from organizations.models import Organization
from organizations.names import fold
from tracker.admin_tools import valid_key

from . import signing
from .models import Signature

PAGE_SIZE = 50
REASON = "Edited on the statement's signatures page"


class SignatureRow(forms.ModelForm):
    class Meta:
        model = Signature
        fields = ["role", "name_as_printed", "joined_on", "withdrawn_on", "withdrawal_reason"]
        widgets = {
            "name_as_printed": forms.TextInput(attrs={"size": 28}),
            "joined_on": forms.DateInput(attrs={"type": "date"}),
            "withdrawn_on": forms.DateInput(attrs={"type": "date"}),
            "withdrawal_reason": forms.TextInput(attrs={"size": 20}),
        }


RowFormSet = modelformset_factory(Signature, form=SignatureRow, extra=0, can_delete=False)


class BulkForm(forms.Form):
    ACTIONS = [
        ("", "Choose an action…"),
        ("lead", "Make them lead sponsors"),
        ("signatory", "Make them signatories"),
        ("joined", "Set the date they joined"),
        ("withdraw", "Withdraw them"),
        ("reinstate", "Undo their withdrawal"),
    ]
    action = forms.ChoiceField(choices=ACTIONS, label="With the selected")
    on = forms.DateField(
        required=False,
        label="Date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="For the date joined or withdrawn.",
    )
    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Reason",
        help_text="For a withdrawal: shown publicly.",
    )

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action in ("joined", "withdraw") and not data.get("on"):
            self.add_error("on", "Give the date.")
        if action == "withdraw" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give the reason for the withdrawal, as it is shown publicly.")
        if not action:
            self.add_error("action", "Choose an action.")
        return data


class ReorderForm(forms.Form):
    order = forms.CharField(
        label="Paste the printed order",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 60, "spellcheck": "false"}),
        max_length=500_000,
        help_text="One organisation a line, as the statement prints them: they take that "
        "order, and any not in it follow, in the order they had.",
    )


def signatures_view(model_admin, request, object_id):
    if not valid_key(object_id):
        raise Http404("No such statement.")
    statement = model_admin.get_object(request, object_id)
    if statement is None:
        raise Http404("No such statement.")
    if not model_admin.has_view_or_change_permission(request, statement):
        raise PermissionDenied
    can_change = model_admin.has_change_permission(request, statement)
    if request.method == "POST" and not can_change:
        raise PermissionDenied
    here = reverse("admin:statements_statement_signatures", args=[statement.pk])
    query = " ".join(request.GET.get("q", "").split())[:200]
    listed = statement.signatures.select_related("organization").order_by("position", "id")
    if query:
        listed = listed.filter(_search(query))
    paginator = Paginator(listed, PAGE_SIZE)
    number = request.GET.get("p", "1")
    if not (number.isascii() and number.isdigit() and 0 < len(number) < 9):
        raise Http404("There is no such page.")
    page = paginator.get_page(number)
    back = here + ("?" + urlencode({k: v for k, v in (("q", query), ("p", page.number)) if v}))

    bulk, reorder, formset = BulkForm(prefix="bulk"), ReorderForm(prefix="reorder"), None
    if request.method == "POST":
        try:
            if "_save" in request.POST:
                formset = RowFormSet(request.POST, queryset=_posted(statement, request.POST))
                if formset.is_valid():
                    changed = [form.instance for form in formset.forms if form.has_changed()]
                    signing.save_signatures(
                        statement=statement, changed=changed, reason=REASON, user=request.user
                    )
                    model_admin.message_user(
                        request, f"Saved {_count(changed)} changed on this page.", messages.SUCCESS
                    )
                    return HttpResponseRedirect(back)
            elif "_bulk" in request.POST:
                bulk = BulkForm(request.POST, prefix="bulk")
                selected = _selected(statement, request.POST)
                formset = RowFormSet(request.POST, queryset=_posted(statement, request.POST))
                if not selected:
                    bulk.add_error(None, "Select the signatures to change first.")
                elif formset.is_valid() and any(form.has_changed() for form in formset.forms):
                    bulk.add_error(
                        None,
                        "Rows of this page were changed too: save the page first, then apply "
                        "the action to the selected.",
                    )
                if bulk.is_valid():
                    said = _apply(statement, selected, bulk.cleaned_data, request.user)
                    model_admin.message_user(request, said, messages.SUCCESS)
                    return HttpResponseRedirect(back)
            elif "_reorder" in request.POST:
                reorder = ReorderForm(request.POST, prefix="reorder")
                if reorder.is_valid():
                    said = _reorder(statement, reorder.cleaned_data["order"], request.user)
                    model_admin.message_user(request, said, messages.SUCCESS)
                    return HttpResponseRedirect(here)
        except ValidationError as error:  # signing.SigningError among them
            model_admin.message_user(request, " ".join(error.messages), messages.ERROR)
    if formset is None:
        formset = RowFormSet(
            queryset=Signature.objects.filter(pk__in=[s.pk for s in page]).order_by(
                "position", "id"
            )
        )
    forms_by_id = {form.instance.pk: form for form in formset.forms}
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Signatures of “{statement}”",
        "opts": model_admin.model._meta,
        "original": statement,
        "statement": statement,
        "change_url": reverse("admin:statements_statement_change", args=[statement.pk]),
        "page": page,
        "rows": [(signature, forms_by_id.get(signature.pk)) for signature in page],
        "formset": formset,
        "bulk": bulk,
        "reorder": reorder,
        "query": query,
        "can_change": can_change,
        "total": statement.signatures.count(),
        "media": model_admin.media + formset.media,
    }
    return TemplateResponse(request, "admin/statements/statement/signatures.html", context)


def _search(query: str) -> Q:
    key = fold(query)
    found = Q(name_as_printed__icontains=query) | Q(organization__acronym__iexact=query)
    if key:
        found |= Q(organization__name_fold__contains=key)
    return found


def _posted(statement, data):
    """The statement's signatures a posted page names (ids of other statements' are not)."""
    ids = [
        value
        for key, value in data.items()
        if key.startswith("form-") and key.endswith("-id") and valid_key(value)
    ]
    return statement.signatures.filter(pk__in=ids[:PAGE_SIZE]).order_by("position", "id")


def _selected(statement, data) -> list[Signature]:
    ids = [value for value in data.getlist("selected")[: PAGE_SIZE * 2] if valid_key(value)]
    return list(statement.signatures.filter(pk__in=ids).order_by("position", "id"))


def _count(signatures) -> str:
    return f"{len(signatures)} signature{'s' if len(signatures) != 1 else ''}"


def _apply(statement, selected: list[Signature], data: dict, user) -> str:
    action = data["action"]
    if action == "withdraw":
        signing.withdraw(signatures=selected, on=data["on"], reason=data["reason"], user=user)
        return f"Withdrew {_count(selected)} on {data['on']:%Y-%m-%d}."
    for signature in selected:
        if action in ("lead", "signatory"):
            signature.role = action
        elif action == "joined":
            signature.joined_on = data["on"]
        elif action == "reinstate":
            signature.withdrawn_on, signature.withdrawal_reason = None, ""
    signing.save_signatures(statement=statement, changed=selected, reason=REASON, user=user)
    told = {
        "lead": "made lead sponsors",
        "signatory": "made signatories",
        "joined": f"given the date joined {data.get('on') or ''}",
        "reinstate": "no longer withdrawn",
    }[action]
    return f"{_count(selected).capitalize()} {told}."


def _reorder(statement, text: str, user) -> str:
    """Put the statement's signatures in the order pasted; lines naming none are an error."""
    lines = parse_pasted_list(text)
    if not lines:
        raise ValidationError("The order is empty: paste one organisation a line.")
    signatures = list(statement.signatures.select_related("organization"))
    by_printed = {fold(s.name_as_printed): s for s in signatures if s.name_as_printed}
    by_organization = {s.organization_id: s for s in signatures}
    signers = Organization.objects.filter(pk__in=by_organization)
    matches = Matcher(signers, apart={}).match_all(lines)
    ordered, unknown, seen = [], [], set()
    for line, match in zip(lines, matches, strict=True):
        signature = by_printed.get(fold(line.name))
        if signature is None and match.is_matched:
            signature = by_organization.get(match.organization.pk)
        if signature is None:
            unknown.append(f"line {line.number} (“{line.name[:60]}”)")
        elif signature.pk not in seen:
            seen.add(signature.pk)
            ordered.append(signature)
    if unknown:
        shown = ", ".join(unknown[:10]) + ("…" if len(unknown) > 10 else "")
        raise ValidationError(
            f"Nothing was reordered: {len(unknown)} line(s) name no organisation that signed "
            f"this statement: {shown}."
        )
    rest = sorted((s for s in signatures if s.pk not in seen), key=lambda s: (s.position, s.pk))
    signing.reorder_signatures(statement=statement, signatures=ordered + rest, user=user)
    said = f"Put {_count(ordered)} in the pasted order."
    if rest:
        said += f" {_count(rest).capitalize()} not in it follow, in the order they had."
    return said
