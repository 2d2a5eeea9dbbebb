"""Dates known only to the year or the month, as sources often give them."""

import datetime
import re

from django.core.exceptions import ValidationError

YEAR, MONTH, DAY = "year", "month", "day"

_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse(text: str) -> tuple[datetime.date | None, str]:
    """
    Read "YYYY", "YYYY-MM" or "YYYY-MM-DD" into (first day of that period, precision).
    An empty string is an unknown date: (None, "").
    """
    text = (text or "").strip()
    if not text:
        return None, ""
    match = _PATTERN.match(text)
    if not match:
        raise ValidationError(
            f"“{text}” is not a date: use YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2025, 2025-11 or "
            "2025-11-12), or leave it blank if unknown.",
            code="invalid_partial_date",
        )
    year, month, day = match.groups()
    try:
        value = datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        raise ValidationError(
            f"“{text}” is not a real date ({exc}).", code="invalid_partial_date"
        ) from exc
    if value.year < 1000:
        raise ValidationError(f"“{text}” is not a plausible year.", code="invalid_partial_date")
    return value, DAY if day else MONTH if month else YEAR


def to_text(value: datetime.date | None, precision: str) -> str:
    """The inverse of parse()."""
    if value is None:
        return ""
    if precision == YEAR:
        return f"{value.year:04d}"
    if precision == MONTH:
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def display(value: datetime.date | None, precision: str) -> str:
    """For readers: "2026", "January 2026" or "12 November 2025"."""
    if value is None:
        return ""
    if precision == YEAR:
        return str(value.year)
    if precision == MONTH:
        return value.strftime("%B %Y")
    return f"{value.day} {value.strftime('%B %Y')}"
