"""What a document upload is: decided by its first bytes, never by its name or the browser's
Content-Type (messaging's sniff(), shared with message attachments). Documents accept PDFs and
images (PNG, JPEG, HEIC) up to RECORDS_DOCUMENT_MAX_BYTES; anything else, including HTML or
SVG renamed .pdf, is refused with words fit for the person uploading."""
import hashlib
import os

from django.conf import settings

from apps.messaging.threads.attachments import EXTENSION_FOR, clean_filename, sniff

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
ACCEPTED = {"application/pdf": {".pdf"}, "image/png": {".png"}, "image/jpeg": {".jpg", ".jpeg", ".jpe"},
            "image/heic": {".heic", ".heif"}}
_KNOWN_EXTENSIONS = {ext for exts in ACCEPTED.values() for ext in exts} | {".txt", ".html", ".htm", ".svg"}
HEAD_BYTES = 4096


def max_bytes():
    return int(getattr(settings, "RECORDS_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


class Rejected(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def inspect_document(upload):
    """(content_type, size, sha256, filename) of an uploaded file, or Rejected: empty, too
    large (counted while reading, whatever the request claimed), not a PDF or image by its
    contents, or named as another kind than it is."""
    name = clean_filename(getattr(upload, "name", "")) or "document"
    limit = max_bytes()
    too_large = Rejected(f"{name} is larger than {limit // (1024 * 1024)} MB.")
    if (getattr(upload, "size", None) or 0) > limit:
        raise too_large
    digest, head, total = hashlib.sha256(), b"", 0
    upload.seek(0)
    for chunk in upload.chunks():
        head = head if len(head) >= HEAD_BYTES else head + chunk[: HEAD_BYTES - len(head)]
        digest.update(chunk)
        total += len(chunk)
        if total > limit:
            raise too_large
    upload.seek(0)
    if total == 0:
        raise Rejected(f"{name} is empty.")
    content_type = sniff(head)
    if content_type not in ACCEPTED:
        raise Rejected(f"{name} is not a PDF or an image (PNG, JPEG, HEIC).")
    ext = os.path.splitext(name)[1].lower()
    if ext in _KNOWN_EXTENSIONS and ext not in ACCEPTED[content_type]:
        raise Rejected(f"{name} is not what its name says.")
    if ext not in ACCEPTED[content_type]:
        name = (name + EXTENSION_FOR[content_type])[-200:]
    return content_type, total, digest.hexdigest(), name
