"""
The admin's merge page, the page of likely duplicate organisations that leads to it, and
the change list's "merge the two selected" action: the organisation admin of
organizations.admin, with merging added (statements/admin.py registers it in its place).
"""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from organizations import judgements
from organizations.admin import OrganizationAdmin, OtherNameInline
from organizations.duplicates import find_duplicates
from organizations.models import Judgement, Organization
from tracker.admin_tools import valid_key

from .merging import known_only_from_drafts, merge_organizations, parts_count, shared_statements

SHARED_SHOWN = 20
JUDGED_SHOWN = 200


class WithheldOtherNameInline(OtherNameInline):
    """Other names, with the draft a withheld one waits for."""

    fields = ["name", "kind", "waits_for"]
    readonly_fields = ["waits_for"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("withholding__statement")

    @admin.display(description="withheld until")
    def waits_for(self, obj):
        return _waits_for(obj)


def _waits_for(obj) -> str:
    """The draft a withheld other name or former slug waits for, or "" if it is public."""
    held = getattr(obj, "withholding", None) if obj.pk else None
    if held is None or held.statement.is_public:
        return ""
    return f"“{held.statement.title}” is published"


class MergingOrganizationAdmin(OrganizationAdmin):
    inlines = [WithheldOtherNameInline]
    actions = ["merge_selected"]

    @admin.display(description="former slugs (redirect here)")
    def former_addresses(self, obj):
        formers = obj.former_slugs.select_related("withholding__statement") if obj.pk else []
        return (
            format_html_join(
                ", ",
                "<code>{}</code>{}",
                (
                    (former.slug, f" (not until {_waits_for(former)})" if former.withheld else "")
                    for former in formers
                ),
            )
            or None
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "duplicates/",
                self.admin_site.admin_view(self.duplicates_view),
                name="{}_{}_duplicates".format(*info),
            ),
            path(
                "judgements/",
                self.admin_site.admin_view(self.judgements_view),
                name="{}_{}_judgements".format(*info),
            ),
            path(
                "merge/",
                self.admin_site.admin_view(self.merge_view),
                name="{}_{}_merge".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_merge": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    @admin.action(description="Merge the two selected organisations", permissions=["change"])
    def merge_selected(self, request, queryset):
        ids = sorted(queryset.values_list("pk", flat=True)[:3])
        if len(ids) != 2:
            self.message_user(
                request, "Select exactly two organisations to merge.", level=messages.ERROR
            )
            return None
        return HttpResponseRedirect(merge_url(*ids))

    def duplicates_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            return self.judge_pair(request)
        duplicates = find_duplicates()
        for pair in duplicates.pairs:
            pair.merge_url = merge_url(pair.first.pk, pair.second.pk)
        judged = Judgement.objects.filter(other__isnull=False).select_related(
            "organization", "other", "made_by"
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Likely duplicate organisations",
            "duplicates": duplicates,
            "judged": judged[:JUDGED_SHOWN],
            "judged_count": judged.count(),
        }
        return TemplateResponse(
            request, "admin/organizations/organization/duplicates.html", context
        )

    def judge_pair(self, request):
        """ "Not the same" for a pair of the page, or taking such an answer back."""
        back = reverse("admin:organizations_organization_duplicates")
        try:
            a, b = self.chosen_pair(request.POST)
            judgements.pair_is_apart(a, b, user=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), level=messages.ERROR)
            return HttpResponseRedirect(back)
        self.message_user(
            request,
            f"“{a.name}” and “{b.name}” are judged not the same: they are not proposed again. "
            "Take it back below if it was a mistake.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(back)

    def judgements_view(self, request):
        """
        Every "same" and "not the same" staff answered, newest first (one organisation's with
        ?organization=), each with a button that takes it back.
        """
        if not self.has_change_permission(request):
            raise PermissionDenied
        here = reverse("admin:organizations_organization_judgements")
        if request.method == "POST":
            value = request.POST.get("take_back", "").strip()
            judgement = (
                Judgement.objects.filter(pk=int(value)).first() if valid_key(value) else None
            )
            if judgement is None:
                self.message_user(request, "That judgement was already taken back.", messages.ERROR)
            else:
                judgements.take_back(judgement, user=request.user)
                self.message_user(
                    request, f"Taken back: “{judgement}”. It may be asked again.", messages.SUCCESS
                )
            back = request.POST.get("next", "")
            safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
            return HttpResponseRedirect(back if back.startswith("/") and safe else here)
        shown = Judgement.objects.select_related("organization", "other", "made_by")
        organization = None
        value = request.GET.get("organization", "").strip()
        if value:
            organization = (
                Organization.objects.filter(pk=int(value)).first() if valid_key(value) else None
            )
            if organization is None:
                raise Http404("No such organisation.")
            shown = shown.filter(Q(organization=organization) | Q(other=organization))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Judgements" + (f" of “{organization.name}”" if organization else ""),
            "judgements": shown[:JUDGED_SHOWN],
            "count": shown.count(),
            "organization": organization,
            "here": request.get_full_path(),
        }
        return TemplateResponse(
            request, "admin/organizations/organization/judgements.html", context
        )

    def merge_view(self, request):
        # Merging deletes the other record, yet Editors, who may not delete, may merge: nothing
        # is lost (everything moves to the kept record, its old slug redirects, and history
        # keeps the deleted record), so merging is a change, not a deletion.
        if not self.has_change_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else request.GET
        try:
            a, b = self.chosen_pair(data)
        except ValidationError as error:
            return self.refuse(request, error)
        if request.method == "POST":
            choice = data.get("keep")
            if choice not in ("a", "b"):
                return self.refuse(request, ValidationError("Choose which record to keep."))
            keep, other = (a, b) if choice == "a" else (b, a)
            try:
                report = merge_organizations(keep=keep, other=other)
            except ValidationError as error:
                return self.refuse(request, error)
            self.message_user(request, report.summary(), level=messages.SUCCESS)
            return HttpResponseRedirect(
                reverse("admin:organizations_organization_change", args=[report.kept.pk])
            )
        sides = []
        for org in (a, b):
            org.parts = parts_count(org)
            org.names = list(org.other_names.all())
            org.slugs = list(org.former_slugs.values_list("slug", flat=True))
            org.draft_only = known_only_from_drafts(org)
            sides.append(org)
        shared = shared_statements(a, b).order_by("-issued_on", "-pk")
        # By default keep the public record, then the one with more signatures, or else the
        # older one. A record known only from drafts cannot be kept over a public one.
        keep_a = (not a.draft_only, a.parts["signatures"], -a.pk) >= (
            not b.draft_only,
            b.parts["signatures"],
            -b.pk,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Merge two organisations",
            "a": a,
            "b": b,
            "sides": sides,
            "shared": shared[:SHARED_SHOWN],
            "shared_count": shared.count(),
            "keep": "a" if keep_a else "b",
        }
        return TemplateResponse(request, "admin/organizations/organization/merge.html", context)

    @staticmethod
    def chosen_pair(data) -> tuple[Organization, Organization]:
        """The two organisations named by `a` and `b`, or a ValidationError saying what is wrong."""
        values = [data.get("a", "").strip(), data.get("b", "").strip()]
        if not all(values):
            raise ValidationError("Choose two organisations to merge.")
        for value in values:
            if not valid_key(value):
                raise ValidationError(f"“{value[:40]}” is not the id of an organisation.")
        ids = [int(value) for value in values]
        if ids[0] == ids[1]:
            raise ValidationError("Choose two different organisations: one cannot be merged "
                                  "into itself.")  # fmt: skip
        found = Organization.objects.in_bulk(ids)
        for pk in ids:
            if pk not in found:
                raise ValidationError(
                    f"There is no organisation with id {pk}: it may have been merged or deleted."
                )
        return found[ids[0]], found[ids[1]]

    def refuse(self, request, error: ValidationError):
        """Nothing was merged: say why, back on the change list."""
        self.message_user(request, " ".join(error.messages), level=messages.ERROR)
        return HttpResponseRedirect(reverse("admin:organizations_organization_changelist"))


def _by_key(model, value: str):
    """The row of `model` whose id is `value` (as posted), or None."""
    return model.objects.filter(pk=int(value)).first() if valid_key(value) else None


def merge_url(a: int, b: int) -> str:
    return reverse("admin:organizations_organization_merge") + "?" + urlencode({"a": a, "b": b})
