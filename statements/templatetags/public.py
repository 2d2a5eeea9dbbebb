from django import template
from django.template.defaultfilters import date as date_format
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def web_url(value: str) -> str:
    """The address if it is an http(s) web address, else "": no javascript: or data: links."""
    value = (value or "").strip()
    return value if value.lower().startswith(("http://", "https://")) else ""


@register.simple_tag
def signature_items(signatures, statement) -> str:
    """
    The <li> of each signature on a statement's page: its organisation's link, with when it
    joined (if not on the statement's date) and when it withdrew. Written here rather than
    by a template included once a row: a 500-signatory page spent most of its time in the
    include and its reverse() calls.
    """
    # One reverse() for the page: every organisation's address differs only by its slug.
    placeholder = "__slug__"
    address = reverse("organization-detail", args=[placeholder])
    before, after = address.rsplit(placeholder, 1)
    items = []
    for signature in signatures:
        withdrawn = signature.withdrawn_on is not None
        parts = [
            '<li class="withdrawn">' if withdrawn else "<li>",
            format_html(
                '<a href="{}">{}</a>',
                f"{before}{signature.organization.slug}{after}",
                signature.printed_name,
            ),
        ]
        if signature.joined_on != statement.issued_on:
            parts.append(
                format_html(' <span class="muted">(joined {})</span>', _time(signature.joined_on))
            )
        if withdrawn:
            parts.append(
                format_html(" — <strong>withdrew {}</strong>", _time(signature.withdrawn_on))
            )
            if signature.withdrawal_reason:
                parts.append(format_html(": {}", signature.withdrawal_reason))
        parts.append("</li>\n")
        items.append("".join(parts))
    return mark_safe("".join(items))


def _time(day) -> str:
    return format_html(
        '<time datetime="{}">{}</time>', date_format(day, "Y-m-d"), date_format(day, "j F Y")
    )
