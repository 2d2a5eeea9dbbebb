"""
Text that every output can carry: XML 1.0 (the Atom feeds) and spreadsheets (CSV downloads).

A spreadsheet opening a CSV file takes a cell that begins with =, +, - or @ (or a tab or
carriage return before one) for a formula, so a name typed by anyone outside, such as
`=HYPERLINK("http://…","Click")`, would run in a partner's spreadsheet. Every CSV cell of
text goes through `spreadsheet_cell`, which prefixes such a cell with a single quote, and
is quoted (tracker.api.CSVWriter), as OWASP recommends: spreadsheets then show it as text,
and the quote tells a reader of the raw file that the cell was neutralised.

XML 1.0 cannot hold most C0 control characters, U+FFFE, U+FFFF or a lone surrogate, and an
Atom feed with one of them cannot be written at all. Text pasted from a word processor
brings some with it, invisibly: Word's manual line break is U+000B and its page break
U+000C. So every text field staff or an import fill is checked when the record is
validated (`CheckedText`, on every model with text): those two become line breaks (spaces
in one-line fields), and any other such character is a validation error naming the field.
Output that reads rows written some other way (plain SQL) still drops them (`xml_text`),
so that one row can never break a feed.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models

# What XML 1.0 cannot carry: C0 controls other than tab, line feed and carriage return, the
# noncharacters U+FFFE and U+FFFF, and surrogates (a lone one is no character at all).
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Word's manual line break and page break: line breaks in a text, spaces in a one-line field.
_BREAKS = re.compile("[\x0b\x0c]")


def xml_text(value: str) -> str:
    """`value` with what XML 1.0 cannot carry dropped (the two breaks become line feeds)."""
    if not value or not NOT_IN_XML.search(value):
        return value
    return NOT_IN_XML.sub("", _BREAKS.sub("\n", value))


# A cell's first character that makes a spreadsheet read it as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value):
    """A CSV cell: text that a spreadsheet would take for a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def tidy_breaks(value: str, *, multiline: bool) -> str:
    """Word's manual line and page breaks as a line feed (`multiline`) or as a space."""
    return _BREAKS.sub("\n" if multiline else " ", value)


def unstorable_character(value: str) -> str | None:
    """The first character of `value` that no text here may hold, as U+XXXX, or None."""
    found = NOT_IN_XML.search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


class CheckedText:
    """
    A model mixin: validating a record (full_clean, as the admin and every import do) turns
    Word's line and page breaks in its text fields into line breaks (spaces in one-line
    fields) and refuses any other character XML 1.0 cannot carry, with an error on the field.
    """

    def clean_fields(self, exclude=None):
        exclude = set(exclude or ())
        errors = {}
        for field in self._meta.concrete_fields:
            if field.name in exclude or not isinstance(field, models.CharField | models.TextField):
                continue
            value = getattr(self, field.attname)
            if not isinstance(value, str) or not NOT_IN_XML.search(value):
                continue
            value = tidy_breaks(value, multiline=isinstance(field, models.TextField))
            setattr(self, field.attname, value)
            character = unstorable_character(value)
            if character is not None:
                errors[field.name] = [
                    ValidationError(
                        f"Contains an invisible control character ({character}), often "
                        "brought in by copying from another program. Remove it: retype the "
                        "text around it, or paste it as plain text.",
                        code="control_character",
                    )
                ]
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            for name, messages in exc.error_dict.items():
                errors.setdefault(name, []).extend(messages)
        if errors:
            raise ValidationError(errors)
