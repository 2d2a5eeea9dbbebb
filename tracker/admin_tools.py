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
- A change form saved over someone else's save since it was opened is refused, whole, with
  a form error saying who saved and when (OptimisticConcurrencyMixin).
"""

from datetime import datetime
from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .history import REVERTED, describe
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


# The hidden field of a change form that carries the version of the record the editor opened.
LOADED_VERSION = "loaded_version"


class OptimisticConcurrencyMixin:
    """
    For a ModelAdmin whose model has an `updated_at` kept with auto_now: a change form saved
    over a change someone else made since it was opened is refused, whole, with a form error
    naming who made that change and when. The editor's input is shown again, and nothing is
    saved, the inline rows included: without this the second of two editors silently puts
    back what the first changed (a publication reverted to draft).

    The version is `updated_at`. Every save of the record moves it, and derived data written
    with QuerySet.update (counts, flags) does not, so a recount is not taken for an edit. A
    save that changes only inline rows moves it too (see save_related), so that it counts as
    a change of the record. Any other write path that changes what staff edit must move it
    as well: a QuerySet.update of editorial fields should set updated_at.

    The row is locked when the form is checked, inside the admin's transaction, and stays
    locked until the save commits (PostgreSQL; SQLite lets one writer at a time commit).
    """

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.has_change_permission(request, obj):
            return fieldsets  # nothing to protect on a new record, or a read-only page
        # A hidden row at the end of the first fieldset: the admin renders only the fields
        # its fieldsets name.
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": [*options["fields"], LOADED_VERSION]}), *rest]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The version is a field of the form, not of the model: the form is made without it.
        if "fields" in kwargs:
            fields = kwargs["fields"]
        else:
            fields = flatten_fieldsets(self.get_fieldsets(request, obj))
        if fields is not None:
            kwargs["fields"] = [field for field in fields if field != LOADED_VERSION]
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form
        return type(form.__name__, (VersionedFormMixin, form), {"model_admin": self})

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        loaded = getattr(form, "loaded_version", None)
        obj = form.instance
        if (
            loaded is not None
            and obj.updated_at == loaded
            and any(formset.has_changed() for formset in formsets)
        ):
            # Only inline rows changed, and the record itself was not saved: move its version,
            # so that an editor who opened it before this save does not save over it.
            obj.updated_at = timezone.now()
            type(obj)._default_manager.filter(pk=obj.pk).update(updated_at=obj.updated_at)

    def edited_since(self, obj, loaded: datetime):
        """
        The newest history record of `obj`, or of its inline rows, made after `loaded`; None
        when the change was not recorded (an import, a script).
        """
        sources = [self.model.history.filter(id=obj.pk)]
        for inline in self.inlines:
            history = getattr(inline.model, "history", None)
            links = [
                field
                for field in inline.model._meta.concrete_fields
                if field.many_to_one
                and field.related_model is self.model
                and inline.fk_name in (None, field.name)
            ]
            if history is not None and len(links) == 1:
                sources.append(history.filter(**{links[0].attname: obj.pk}))
        newest = None
        for records in sources:
            record = (
                records.filter(history_date__gt=loaded)
                .select_related("history_user")
                .order_by("-history_date", "-history_id")
                .first()
            )
            if record is not None and (newest is None or record.history_date > newest.history_date):
                newest = record
        return newest


class VersionedFormMixin:
    """The change form of an OptimisticConcurrencyMixin admin (made by its get_form)."""

    model_admin: OptimisticConcurrencyMixin
    loaded_version: datetime | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[LOADED_VERSION] = forms.CharField(required=False, widget=forms.HiddenInput)
        if self.instance.pk is not None:
            # An old version shown to be reverted to has no updated_at of its own (history
            # does not keep it): the version it replaces is the current row's.
            version = self.instance.updated_at or self._current_version(lock=False)
            self.initial[LOADED_VERSION] = version.isoformat() if version else ""

    def _current_version(self, *, lock: bool) -> datetime | None:
        rows = type(self.instance)._default_manager.filter(pk=self.instance.pk)
        if lock:
            # The lock a save takes anyway (FOR NO KEY UPDATE), taken early and in the
            # order every write locks rows: statements, then organisations.
            rows = rows.select_for_update(no_key=True)
        return rows.values_list("updated_at", flat=True).first()

    def clean(self):
        data = super().clean()
        if self.instance.pk is None:
            return data
        current = self._current_version(lock=True)
        loaded = _parse_version(self.cleaned_data.get(LOADED_VERSION, ""))
        if current is None:
            return data  # deleted meanwhile: the admin's own save says so
        if loaded is None or loaded > current:
            self.add_error(None, ValidationError(self._tampered_message(), code="no_version"))
        elif loaded != current:
            self.add_error(
                None, ValidationError(self._conflict_message(loaded, current), code="stale")
            )
        else:
            self.loaded_version = loaded
        return data

    def _names(self) -> tuple[str, str]:
        admin_ = self.model_admin
        info = admin_.admin_site.name, admin_.opts.app_label, admin_.opts.model_name
        pk = self.instance.pk
        return (
            reverse("{}:{}_{}_change".format(*info), args=[pk]),
            reverse("{}:{}_{}_history".format(*info), args=[pk]),
        )

    def _conflict_message(self, loaded: datetime, current: datetime) -> str:
        record = self.model_admin.edited_since(self.instance, loaded)
        user = getattr(record, "history_user", None)
        who = (
            user.get_username() if user is not None else "another process (an import, for example)"
        )
        change_url, history_url = self._names()
        return format_html(
            "Saved by {} at {} since you opened this page: your changes are not saved. "
            'Review the <a href="{}" target="_blank" rel="noopener">current version</a> '
            '(opens in a new tab) and <a href="{}" target="_blank" rel="noopener">its '
            "history</a>, then make your changes again there. What you entered is still "
            "below, to copy from.",
            who,
            shown_time(current),
            change_url,
            history_url,
        )

    def _tampered_message(self) -> str:
        change_url, _ = self._names()
        return format_html(
            "This form does not say which version of the {} it was opened on, so it cannot "
            "tell whether someone else saved it since: your changes are not saved. Open the "
            '<a href="{}" target="_blank" rel="noopener">current version</a> (opens in a new '
            "tab) and make your changes there.",
            self.model_admin.opts.verbose_name,
            change_url,
        )


def _parse_version(text: str) -> datetime | None:
    """A version as the form carries it (ISO 8601, with its offset), or None if it is not one."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def shown_time(value: datetime) -> str:
    """A moment in the site's time zone, as staff read it: 14:05:33 UTC on 1 December 2026."""
    local = timezone.localtime(value)
    return f"{local:%H:%M:%S} {local.tzname()} on {local.day} {local:%B %Y}"


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

    object_history_list_template = "admin/history_list.html"

    def history_view(self, request, object_id, extra_context=None):
        if not valid_key(object_id):
            raise Http404("No such record.")
        return super().history_view(request, object_id, extra_context)

    def render_history_view(self, request, template, context, **kwargs):
        page = context.get("page_obj")
        if page is not None:
            # Each version told as a sentence, read against the one before it (the next on
            # the page, newest first), or the one before the page.
            records = page.object_list = list(page.object_list)
            for index, record in enumerate(records):
                before = records[index + 1] if index + 1 < len(records) else None
                record.entry = describe(record, before)
        return super().render_history_view(request, template, context, **kwargs)

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
        response = self._atomic(
            request, super().history_form_view, request, object_id, version_id, extra_context
        )
        if request.method == "POST" and response.status_code == 302:
            self.label_revert(object_id, version_id)
        return response

    def label_revert(self, object_id, version_id):
        """The version a revert saved says it was one, and to which version."""
        history = history_of(self.model)
        version = history.filter(id=object_id, history_id=version_id).first()
        newest = history.filter(id=object_id).order_by("-history_date", "-history_id").first()
        if version is not None and newest is not None and newest.pk != version.pk:
            reason = f"{REVERTED}{shown_time(version.history_date)}"
            history.filter(pk=newest.pk).update(history_change_reason=reason[:100])

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
