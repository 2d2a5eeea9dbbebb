"""
Statements' uploaded documents: which files are accepted, and how they are served.

Accepted: PDF, Word (.doc, .docx), OpenDocument text, RTF, plain text and PNG or JPEG images,
by extension AND by content: libmagic reads the file's first bytes, and a file whose content
is not what its extension says (a ".pdf" that is HTML) is refused, as is anything that is
markup or script a browser would run (HTML, XHTML, SVG, XML, JavaScript), whatever its name.

Served by the app itself (statements.views.serve_document), in production as in development,
from MEDIA_ROOT: only a file that
a statement's `document` names (no other path is ever opened), a draft's to staff only, and
always as a download: `Content-Disposition: attachment`, a content type from the list below
(never HTML or SVG; anything else is application/octet-stream), `X-Content-Type-Options:
nosniff`, and a Content-Security-Policy that runs nothing and sandboxes the file should a
browser display it anyway.
"""

import posixpath

import magic
from django.core.exceptions import ValidationError

# Extension: (the type it is served as, the types libmagic may read its content as; one
# ending in "/" stands for all of that kind). .docx and .odt files are ZIP archives: from
# their first bytes libmagic may say only that. Plain text may read as any kind of text
# (CSV, say) but markup, which is refused first.
DOCUMENT_TYPES = {
    "pdf": ("application/pdf", {"application/pdf"}),
    "doc": (
        "application/msword",
        {
            "application/msword",
            "application/vnd.ms-office",
            "application/x-ole-storage",
            "application/CDFV2",
        },
    ),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/zip",
        },
    ),
    "odt": (
        "application/vnd.oasis.opendocument.text",
        {"application/vnd.oasis.opendocument.text", "application/zip"},
    ),
    "rtf": ("application/rtf", {"text/rtf", "application/rtf"}),
    "txt": ("text/plain", {"text/"}),
    "png": ("image/png", {"image/png"}),
    "jpg": ("image/jpeg", {"image/jpeg"}),
    "jpeg": ("image/jpeg", {"image/jpeg"}),
}
ACCEPTED = "PDF, Word (.doc, .docx), OpenDocument (.odt), RTF, plain text (.txt), PNG or JPEG"
# Content a browser would render or run: refused whatever the file is called.
ACTIVE_CONTENT = {
    "text/html": "HTML",
    "application/xhtml+xml": "XHTML",
    "image/svg+xml": "SVG",
    "text/xml": "XML",
    "application/xml": "XML",
    "text/javascript": "JavaScript",
    "application/javascript": "JavaScript",
    "application/x-javascript": "JavaScript",
}
SNIFFED_BYTES = 64 * 1024
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def extension(name: str) -> str:
    return posixpath.splitext(name)[1].lstrip(".").lower()


def sniff(head: bytes) -> str:
    """The content type libmagic reads in a file's first bytes."""
    return magic.from_buffer(head, mime=True)


def validate_document(document) -> None:
    """
    A new upload must have an accepted extension and content of that kind. A file already
    stored is not checked again (editing a statement never refuses its earlier document).
    """
    if getattr(document, "_committed", True):
        return
    name = posixpath.basename(document.name or "")
    kind = extension(name)
    if kind not in DOCUMENT_TYPES:
        what = f"“.{kind}” files are" if kind else "Files without an extension are"
        raise ValidationError(
            f"{what} not accepted. Upload the document as {ACCEPTED}.",
            code="invalid_extension",
        )
    upload = document.file
    upload.seek(0)
    head = upload.read(SNIFFED_BYTES)
    upload.seek(0)
    if not head:
        raise ValidationError(f"“{name}” is empty.", code="empty")
    found = sniff(head)
    if found in ACTIVE_CONTENT:
        raise ValidationError(
            f"“{name}” contains {ACTIVE_CONTENT[found]}, which is not accepted: a browser "
            f"would run it. Upload the document as {ACCEPTED}.",
            code="active_content",
        )
    if not any(
        found.startswith(allowed) if allowed.endswith("/") else found == allowed
        for allowed in DOCUMENT_TYPES[kind][1]
    ):
        raise ValidationError(
            f"“{name}” is not a .{kind} file: its content reads as {found}. Upload the "
            f"document as {ACCEPTED}, with the extension of its kind.",
            code="content_mismatch",
        )


def served_type(name: str) -> str:
    """The content type a stored file is served with: from the list, else octet-stream."""
    return DOCUMENT_TYPES.get(extension(name), ("application/octet-stream",))[0]
