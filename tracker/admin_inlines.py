"""
Inlines whose change pages cost the same number of queries for 2 rows as for 500.

Django renders every inline row's foreign-key widget on its own: a plain select runs its
choices query once per row, and an autocomplete select looks up its selected object once per
row. A statement with 300 signatories would cost 300 queries. These classes read each
widget's choices once per formset instead.
"""

from functools import cached_property

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.forms.models import BaseInlineFormSet


class PrefetchedAutocompleteSelect(AutocompleteSelect):
    """An autocomplete select that renders its selected object from a formset-wide lookup."""

    prefetched: dict[str, object] | None = None

    def optgroups(self, name, value, attr=None):
        if self.prefetched is None:
            return super().optgroups(name, value, attr)
        options = []
        if not self.is_required:
            options.append(self.create_option(name, "", "", False, 0))
        for selected in value:
            obj = self.prefetched.get(str(selected))
            if obj is not None:
                label = self.choices.field.label_from_instance(obj)
                options.append(self.create_option(name, obj.pk, label, True, len(options)))
        return [(None, options, 0)]


def _inner(widget):
    return getattr(widget, "widget", widget)  # unwrap RelatedFieldWidgetWrapper


class SharedChoicesFormSet(BaseInlineFormSet):
    def kept_forms(self) -> list:
        """
        The rows that will exist once this formset is saved. An inline shows every row of its
        parent, so rules about the parent's rows as a whole (one first-reported item, no name
        twice) can be checked here, where Django checks only rules on plain fields.
        """
        kept = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            if form.instance.pk is None and not form.has_changed():
                continue  # an empty extra row
            kept.append(form)
        return kept

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
            if isinstance(_inner(field.widget), PrefetchedAutocompleteSelect):
                # Only well-formed keys: a re-rendered bad POST may hold anything.
                values = {str(form[name].value()) for form in forms_}
                values = {value for value in values if value.isdigit()}
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


class EfficientInlineMixin:
    """Use in an admin inline: autocomplete and select widgets cost one query per formset."""

    formset = SharedChoicesFormSet

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = PrefetchedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class EfficientTabularInline(EfficientInlineMixin, admin.TabularInline):
    pass


class EfficientStackedInline(EfficientInlineMixin, admin.StackedInline):
    pass
