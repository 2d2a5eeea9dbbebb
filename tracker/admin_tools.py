"""
Admin building blocks shared by every app: robust against bad input, and cheap to render.

- Foreign-key and many-to-many fields refuse a malformed or out-of-range id as a form error
  (Django's own widgets look such a value up again when redrawing the form, and crash).
- Inline change pages cost the same number of queries for 2 rows as for 500: Django renders
  each row's widget on its own, so a plain select runs its choices query once per row, and an
  autocomplete select looks up its selected object once per row.
- Inline formsets check rules about all of a parent's rows (one first-reported item, no name
  twice) over the rows that will exist once saved, and save deletions first.
- If the database still refuses a save, staff get an error message and nothing is written,
  not a server error.
- Tampered requests are refused, not a server error: negative inline row counts, selected
  ids that cannot be keys, a date-hierarchy year too large for a date.
"""

from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from .restore import delete_recorded, history_of, restore_deleted, restore_plan, shown_as

_BIGINT = 2**63


def valid_key(value) -> bool:
    """Whether `value` can be a primary key here (all keys are 64-bit integers)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return False
    return -_BIGINT <= number < _BIGINT and str(value).strip().lstrip("-").isascii()


class SafeModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and not valid_key(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class SafeModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for item in value:
            if not valid_key(item):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        return super()._check_values(value)


class SafeAutocompleteSelect(AutocompleteSelect):
    """
    An autocomplete select that ignores malformed ids when redrawing, and can render its
    selected object from a formset-wide lookup instead of a query of its own.
    """

    prefetched: dict[str, object] | None = None

    def optgroups(self, name, value, attr=None):
        value = [v for v in value if valid_key(v)]
        if self.prefetched is None:
            return super().optgroups(name, value, attr)
        options = []
        if not self.is_required:
            options.append(self.create_option(name, "", "", False, 0))
        for selected in value:
            obj = self.prefetched.get(str(selected).strip())
            if obj is not None:
                label = self.choices.field.label_from_instance(obj)
                options.append(self.create_option(name, obj.pk, label, True, len(options)))
        return [(None, options, 0)]


class SafeForeignKeysMixin:
    """For ModelAdmin and inlines: robust foreign-key and many-to-many form fields."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        kwargs.setdefault("form_class", SafeModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", SafeModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _inner(widget):
    return getattr(widget, "widget", widget)  # unwrap RelatedFieldWidgetWrapper


class InlineFormSet(BaseInlineFormSet):
    def full_clean(self):
        super().full_clean()
        # Django takes a negative row count as "no rows": the parent would save while the
        # rows posted with it were silently dropped.
        counts = self.management_form.cleaned_data if self.is_bound else {}
        if min(counts.get(TOTAL_FORM_COUNT, 0), counts.get(INITIAL_FORM_COUNT, 0)) < 0:
            self._non_form_errors.append(
                ValidationError(
                    "The form's row counts were tampered with: reload the page and try again.",
                    code="missing_management_form",
                )
            )

    def kept_forms(self) -> list:
        """
        The rows that will exist once this formset is saved. An inline shows every row of its
        parent, so rules about the parent's rows as a whole can be checked here, where Django
        checks only rules on plain fields.
        """
        kept = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            if form.instance.pk is None and not form.has_changed():
                continue  # an empty extra row
            kept.append(form)
        return kept

    def save_existing_objects(self, commit=True):
        # Delete first, so that a row can take over what a row deleted in the same save had
        # (its organisation, its first-reported flag) without a moment of conflict.
        deleted = []
        if commit:
            for form in self.deleted_forms:
                if form.instance.pk is not None:
                    deleted.append(form.instance)
                    delete_recorded(obj=form.instance)
        saved = super().save_existing_objects(commit)
        self.deleted_objects = deleted + self.deleted_objects
        return saved

    @cached_property
    def forms(self):
        forms_ = super().forms
        self._shared = self._read_choices_once(forms_)
        self._share_choices(forms_)
        return forms_

    @property
    def empty_form(self):
        form = super().empty_form
        self.forms  # noqa: B018 -- reads the shared choices
        self._share_choices([form])
        return form

    def _read_choices_once(self, forms_) -> dict[str, tuple[str, object]]:
        """For each foreign-key field: ("autocomplete", {pk: obj}) or ("select", choices)."""
        shared = {}
        for name, field in self.form.base_fields.items():
            if not isinstance(field, forms.ModelChoiceField) or isinstance(
                field, forms.ModelMultipleChoiceField
            ):
                continue
            if isinstance(_inner(field.widget), SafeAutocompleteSelect):
                values = {str(form[name].value()).strip() for form in forms_}
                values = {value for value in values if valid_key(value)}
                objects = field.queryset.filter(pk__in=values) if values else []
                shared[name] = ("autocomplete", {str(obj.pk): obj for obj in objects})
            elif not isinstance(_inner(field.widget), forms.HiddenInput):
                shared[name] = ("select", list(field.choices))
        return shared

    def _share_choices(self, forms_):
        for form in forms_:
            for name, (how, data) in self._shared.items():
                field = form.fields.get(name)
                if field is None:
                    continue
                if how == "autocomplete":
                    _inner(field.widget).prefetched = data
                else:
                    field.choices = data
                    _inner(field.widget).choices = data


class TabularInline(SafeForeignKeysMixin, admin.TabularInline):
    formset = InlineFormSet


class StackedInline(SafeForeignKeysMixin, admin.StackedInline):
    formset = InlineFormSet


class SafeChangeList(ChangeList):
    def get_filters(self, request):
        # Django refuses a malformed date-hierarchy year or month (a ValueError), but not one
        # too large for a date (an OverflowError, e.g. a year of 2**63).
        try:
            return super().get_filters(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error


class ModelAdmin(SafeForeignKeysMixin, SimpleHistoryAdmin):
    """Every change is recorded (who, when, what) and can be reverted from "History"."""

    def get_changelist(self, request, **kwargs):
        return SafeChangeList

    def response_action(self, request, queryset):
        # Django filters the list by the selected ids as posted: one that cannot be a key
        # (tampered with) would make that filter raise.
        if not all(valid_key(pk) for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            self.message_user(
                request, "The selection was not valid: nothing was changed.", messages.ERROR
            )
            return None
        return super().response_action(request, queryset)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._atomic(
            request, super().changeform_view, request, object_id, form_url, extra_context
        )

    def history_view(self, request, object_id, extra_context=None):
        if not valid_key(object_id):
            raise Http404("No such record.")
        return super().history_view(request, object_id, extra_context)

    # The library names the record with str(), which may read a related record deleted
    # with it (a signature's statement): an old version is then named by its id.
    def history_view_title(self, request, obj):
        try:
            return super().history_view_title(request, obj)
        except ObjectDoesNotExist:
            return f"History: {self.opts.verbose_name} {shown_as(obj)}"

    def history_form_view_title(self, request, obj):
        try:
            return super().history_form_view_title(request, obj)
        except ObjectDoesNotExist:
            return f"Version of {self.opts.verbose_name} {shown_as(obj)}"

    # Given the restore plan, in the restore's transaction: an app whose admin restores rows
    # that other data is derived from brings that data up to date here.
    after_restore = None

    def delete_model(self, request, obj):
        # Recorded so that a superuser can restore it whole (tracker/restore.py).
        delete_recorded(obj=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                delete_recorded(obj=obj, user=request.user)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Reverting goes through the same form, its checks and this same safety net, and
        # needs the change permission: the library itself would let a viewer's POST save.
        if not (valid_key(object_id) and valid_key(version_id)):
            raise Http404("No such version.")
        if not self.model._default_manager.filter(pk=object_id).exists():
            return self.restore_view(request, object_id, version_id)
        if request.method == "POST" and not self.has_change_permission(request):
            raise PermissionDenied
        return self._atomic(
            request, super().history_form_view, request, object_id, version_id, extra_context
        )

    def restore_view(self, request, object_id, version_id):
        """
        A deleted record's version: only superusers, who delete, may restore it, and then
        whole, as it was when deleted, or not at all (the library's revert would re-create
        the row alone, without what was deleted with it).
        """
        history = history_of(self.model)
        version = history.filter(id=object_id, history_id=version_id).first()
        if version is None:
            raise Http404("No such version.")
        if not self.has_view_history_or_change_history_permission(request, version.instance):
            raise PermissionDenied
        if request.method == "POST" and not request.user.is_superuser:
            raise PermissionDenied
        history_url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_history",
            args=[object_id],
        )
        if request.method == "POST":
            try:
                plan = restore_deleted(
                    model=self.model,
                    object_id=object_id,
                    user=request.user,
                    then=self.after_restore,
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), level=messages.ERROR)
                return HttpResponseRedirect(history_url)
            self.message_user(request, plan.summary(), level=messages.SUCCESS)
            return HttpResponseRedirect(
                reverse(
                    f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=[object_id],
                )
            )
        plan = problem = None
        if request.user.is_superuser:
            try:
                plan = restore_plan(model=self.model, object_id=object_id)
            except ValidationError as error:
                problem = " ".join(error.messages)
        deletion = (
            plan.record
            if plan is not None
            else history.filter(id=object_id).order_by("-history_date", "-history_id").first()
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Restore the deleted {self.opts.verbose_name} “{shown_as(version.instance)}”",
            "version": version,
            "deletion": deletion,
            "plan": plan,
            "problem": problem,
            "history_url": history_url,
        }
        return TemplateResponse(request, "admin/restore_deleted.html", context)

    def _atomic(self, request, view, *args):
        try:
            with transaction.atomic():
                return view(*args)
        except IntegrityError:
            # The forms check every rule the database has; this is the last line of defence,
            # e.g. two rows swapping organisations in one save.
            self.message_user(
                request,
                "Nothing was saved: the database refused the change because two rows would "
                "conflict (for example the same organisation twice on one statement). "
                "Make the change in two steps.",
                level=messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
