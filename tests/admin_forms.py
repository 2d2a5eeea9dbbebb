"""Read an admin page's form as a browser would submit it, so tests can change and post it."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_default: str | None = None
        self._select_chosen = False
        self._multiple = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(
                attrs.get("value") or ("on" if kind in ("checkbox", "radio") else "")
            )
        elif tag == "select" and name:
            self._select, self._select_chosen, self._select_default = name, False, None
            self._multiple = "multiple" in attrs
            self.data.setdefault(name, [])
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._select_default is None and not self._multiple:
                self._select_default = value
            if "selected" in attrs:
                self.data[self._select].append(value)
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self._select_chosen and self._select_default is not None:
                self.data[self._select].append(self._select_default)
            self._select = None
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            self.data.setdefault(self._textarea, []).append(text.removeprefix("\n"))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_data(html: str) -> dict[str, list[str] | str]:
    """The form fields of an admin page, as the browser would post them."""
    reader = _FormReader()
    reader.feed(html)
    data = {k: v for k, v in reader.data.items() if "__prefix__" not in k}
    data.pop("csrfmiddlewaretoken", None)
    return {k: v[0] if len(v) == 1 else v for k, v in data.items()}


def add_inline_row(data: dict, prefix: str, **fields) -> dict:
    """Append one new row to an inline formset in `data`."""
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    for name, value in fields.items():
        data[f"{prefix}-{total}-{name}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    return data
