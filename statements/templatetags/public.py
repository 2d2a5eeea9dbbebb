from django import template

register = template.Library()


@register.filter
def web_url(value: str) -> str:
    """The address if it is an http(s) web address, else "": no javascript: or data: links."""
    value = (value or "").strip()
    return value if value.lower().startswith(("http://", "https://")) else ""
