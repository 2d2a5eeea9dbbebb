from django import template
from django.template.defaultfilters import date as date_format
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from statements.models import Signature

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
    before, after = _address("organization-detail")
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


@register.simple_tag
def statement_items(statements) -> str:
    """
    The <li> of each statement in a list of them (the home page, the statement list, a
    topic, search): its title's link, date and place, kind, counts of leads and signatories,
    whether it was retracted, and its topics' links. Written here, as signature_items, rather
    than by a template included once a statement: the include, its reverse() calls and its
    filters were most of a list page's time.
    """
    statement_before, statement_after = _address("statement-detail")
    topic_before, topic_after = _address("topic-detail")
    items = []
    for statement in statements:
        day = statement.issued_on
        leads, signatories = statement.lead_count, statement.signatory_count
        parts = [
            format_html(
                '<li>\n  <h3 class="item-title"><a href="{}">{}</a></h3>\n  <p class="meta">\n'
                '    <time datetime="{}">{}</time>',
                f"{statement_before}{statement.slug}{statement_after}",
                statement.title,
                date_format(day, "Y-m-d"),
                date_format(day, "j F Y"),
            ),
            format_html(", {}", statement.place) if statement.place else "",
            format_html(
                "\n    · {}\n    · {} lead{}, {} signator{}\n    ",
                statement.get_kind_display(),
                leads,
                pluralize(leads),
                signatories,
                pluralize(signatories, "y,ies"),
            ),
            "· <strong>Retracted</strong>" if statement.status == "retracted" else "",
            "\n  </p>\n  ",
        ]
        topics = list(statement.listed_topics)
        if topics:
            parts.append("<p>")
            for topic in topics:
                parts.append(
                    format_html(
                        '<a class="tag" href="{}">{}</a>',
                        f"{topic_before}{topic.slug}{topic_after}",
                        topic.name,
                    )
                )
            parts.append("</p>")
        parts.append("\n</li>\n")
        items.append("".join(parts))
    return mark_safe("".join(items))


@register.simple_tag
def position_items(signatures, organization) -> str:
    """
    The <li> of each of an organisation's positions on its page (its signatures, with their
    statements): the date, the statement's link, the role and the name it signed under if
    not its own, and when it withdrew. Written here, as statement_items, rather than by the
    template once a row.
    """
    before, after = _address("statement-detail")
    roles = {str(value): str(label).lower() for value, label in Signature.Role.choices}
    items = []
    for signature in signatures:
        statement = signature.statement
        printed = signature.name_as_printed
        items.append(
            format_html(
                '\n  <li><time datetime="{}">{}</time> —\n    <a href="{}">{}</a>\n'
                '    <span class="muted">({}{})</span>\n    {}</li>\n  ',
                date_format(statement.issued_on, "Y-m-d"),
                date_format(statement.issued_on, "j F Y"),
                f"{before}{statement.slug}{after}",
                statement.title,
                roles.get(signature.role, str(signature.role).lower()),
                format_html(", as “{}”", printed)
                if printed and printed != organization.name
                else "",
                format_html(
                    "<strong>withdrew {}</strong>", date_format(signature.withdrawn_on, "j F Y")
                )
                if signature.withdrawn_on is not None
                else "",
            )
        )
    return mark_safe("".join(items))


def _withdrew(day) -> str:
    return format_html("<strong>withdrew {}</strong>", date_format(day, "j F Y"))


def _address(name: str) -> tuple[str, str]:
    """The address of the page `name` of one record, around its slug: one reverse() for a
    page, as every record's address differs only by its slug."""
    placeholder = "__slug__"
    before, after = reverse(name, args=[placeholder]).rsplit(placeholder, 1)
    return before, after


def _time(day) -> str:
    return format_html(
        '<time datetime="{}">{}</time>', date_format(day, "Y-m-d"), date_format(day, "j F Y")
    )
