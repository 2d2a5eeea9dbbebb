"""
Starting a statement from its press release: staff paste the release, check what was read
from it (each field shown with the lines it came from), and confirm. That makes a draft with
the title, date, place, ask, media contact and quotes, and goes on to the preview of its
signatory list (lead sponsors and signatories, in printed order), where each organisation
is matched as in any pasted list and nothing is added until staff confirm.
"""

import csv
import io

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms import formset_factory
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify

from . import signatory_lists
from .admin_signatories import RELEASE_SESSION_KEY
from .models import MediaContact, Quote, Signature, Statement
from .publishing import save_statement
from .releases import read_release

SESSION_KEY = RELEASE_SESSION_KEY  # read back by the signatory list's page
MAX_RELEASE = 200_000  # characters


class ReleaseTextForm(forms.Form):
    text = forms.CharField(
        label="Paste the press release",
        max_length=MAX_RELEASE,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 20, "cols": 90, "spellcheck": "false"}),
        help_text="As copied from the PDF or the web page, OCR noise and all.",
    )


class DraftForm(forms.Form):
    title = forms.CharField(max_length=Statement._meta.get_field("title").max_length)
    issued_on = forms.DateField(label="Date issued", widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(
        max_length=Statement._meta.get_field("place").max_length, required=False
    )
    ask = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))
    email = forms.EmailField(label="Media contact: email", required=False)
    phone = forms.CharField(
        label="Media contact: phone",
        required=False,
        max_length=MediaContact._meta.get_field("phone").max_length,
    )
    leads = forms.CharField(
        label="Lead sponsors",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="One a line, as printed.",
    )
    signatories = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80}),
        help_text="One a line, in printed order.",
    )


class QuoteForm(forms.Form):
    use = forms.BooleanField(required=False, initial=True, label="Keep this quote")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))
    speaker = forms.CharField(max_length=Quote._meta.get_field("speaker").max_length)
    speaker_title = forms.CharField(
        required=False, max_length=Quote._meta.get_field("speaker_title").max_length
    )


QuoteFormSet = formset_factory(QuoteForm, extra=0, max_num=20, absolute_max=20)


def release_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    text_form, draft_form, quotes, release = ReleaseTextForm(), None, None, None
    if request.method == "POST":
        text_form = ReleaseTextForm(request.POST)
        if text_form.is_valid():
            release = read_release(text_form.cleaned_data["text"])
            if "_create" in request.POST:
                draft_form = DraftForm(request.POST)
                quotes = QuoteFormSet(request.POST, prefix="quote")
                if draft_form.is_valid() and quotes.is_valid():
                    try:
                        statement = create_draft(draft_form.cleaned_data, quotes, request.user)
                    except ValidationError as error:
                        draft_form.add_error(None, error)
                    else:
                        request.session[SESSION_KEY] = {
                            "statement": statement.pk,
                            "csv": signatory_csv(draft_form.cleaned_data),
                        }
                        model_admin.message_user(
                            request,
                            f"The draft “{statement.title}” was made from the release. Check "
                            "how its signatories matched, then add them.",
                            messages.SUCCESS,
                        )
                        return HttpResponseRedirect(
                            reverse("admin:statements_statement_signatories", args=[statement.pk])
                            + "?from=release"
                        )
            else:
                draft_form = DraftForm(initial=_initial(release))
                quotes = QuoteFormSet(
                    prefix="quote",
                    initial=[
                        {
                            "use": True,
                            "text": q.value.text,
                            "speaker": q.value.speaker,
                            "speaker_title": q.value.speaker_title,
                        }
                        for q in release.quotes
                    ],
                )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Start a statement from its press release",
        "opts": model_admin.model._meta,
        "text_form": text_form,
        "draft_form": draft_form,
        "quotes": quotes,
        "release": release,
        "sources": _sources(release) if release else {},
        "quote_sources": [q.shown for q in release.quotes] if release else [],
    }
    return TemplateResponse(request, "admin/statements/statement/from_release.html", context)


def _initial(release) -> dict:
    value = lambda found: found.value if found else ""  # noqa: E731
    return {
        "title": value(release.title),
        "issued_on": value(release.issued_on) or None,
        "place": value(release.place),
        "ask": value(release.ask),
        "email": value(release.email),
        "phone": value(release.phone),
        "leads": "\n".join(found.value for found in release.leads),
        "signatories": "\n".join(found.value for found in release.signatories),
    }


def _sources(release) -> dict[str, str]:
    """For each field, the lines it was read from, as staff see them."""

    def told(found):
        if not found:
            return "Not found in the release: left blank."
        lines = ", ".join(str(n) for n in found.lines[:3]) + ("…" if len(found.lines) > 3 else "")
        return f"From line {lines}: {found.shown}"

    def listed(items):
        if not items:
            return "Not found in the release: left blank."
        numbers = sorted({n for item in items for n in item.lines})
        return f"{len(items)} read from line {numbers[0]} to {numbers[-1]}."

    return {
        "title": told(release.title),
        "issued_on": told(release.issued_on),
        "place": told(release.place),
        "ask": told(release.ask),
        "email": told(release.email),
        "phone": told(release.phone),
        "leads": listed(release.leads),
        "signatories": listed(release.signatories),
    }


def signatory_csv(data: dict) -> str:
    """The leads, then the signatories, as a CSV the signatory list's preview reads."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "role"])
    for key, role in (("leads", Signature.Role.LEAD), ("signatories", Signature.Role.SIGNATORY)):
        for line in signatory_lists.parse_pasted_list(data.get(key) or ""):
            writer.writerow([line.name, role])
    return out.getvalue()


def _unique_slug(title: str) -> str:
    base = slugify(title)[:180].strip("-") or "statement"
    slug, number = base, 1
    while Statement.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def create_draft(data: dict, quotes, user) -> Statement:
    """The draft, its media contact and its quotes, in one transaction."""
    with transaction.atomic():
        statement = Statement(
            title=data["title"],
            slug=_unique_slug(data["title"]),
            issued_on=data["issued_on"],
            place=data["place"],
            ask=data["ask"],
            status=Statement.Status.DRAFT,
        )
        statement.full_clean()
        statement._history_user = user
        statement._change_reason = "Made from its press release"
        save_statement(statement=statement)
        parts = []
        if data["email"] or data["phone"]:
            parts.append(
                MediaContact(statement=statement, email=data["email"], phone=data["phone"])
            )
        kept = [form.cleaned_data for form in quotes.forms if form.cleaned_data.get("use")]
        for position, quote in enumerate(kept, start=1):
            parts.append(
                Quote(
                    statement=statement,
                    text=quote["text"],
                    speaker=quote["speaker"],
                    speaker_title=quote["speaker_title"],
                    position=position,
                )
            )
        for part in parts:
            part.full_clean()
            part._history_user = user
            part._change_reason = "Made from its press release"
            part.save()
    return statement
