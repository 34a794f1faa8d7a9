"""Attachment files: where they are kept and what they are.

Storage. Files live in the clinic's one private storage (STORAGES["private"]: the filesystem
under PRIVATE_FILES_ROOT, or an S3-compatible bucket), under "attachments/". It has no URL at
all, so the only way out is the permission-checked download view. Stored names are random (the
thread id and a UUID), never the patient's filename.

Type. The browser's Content-Type and the file's extension are ignored: the first bytes
decide (PDF, PNG, JPEG, HEIC, plain UTF-8 text). Anything else is refused, including HTML or
SVG renamed to .pdf or .txt. A known extension that disagrees with the contents is refused
too, so "scan.pdf" is always a PDF.
"""
import hashlib
import os
import re
import uuid

from django.conf import settings
from django.http import FileResponse, Http404

from apps.core.storage import PrivateFiles

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PER_MESSAGE = 5

ALLOWED = {
    "application/pdf": ("PDF", {".pdf"}),
    "image/png": ("PNG image", {".png"}),
    "image/jpeg": ("JPEG image", {".jpg", ".jpeg", ".jpe"}),
    "image/heic": ("HEIC photo", {".heic", ".heif"}),
    "text/plain": ("text file", {".txt", ".text", ".log", ".csv"}),
}
EXTENSION_FOR = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/heic": ".heic", "text/plain": ".txt"}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# Markup that a browser would render or run if it ever sniffed the file: never "plain text".
_MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|\?xml|meta|a\s|img\s|style)", re.I)


def max_bytes():
    return int(getattr(settings, "MESSAGING_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_per_message():
    return int(getattr(settings, "MESSAGING_ATTACHMENTS_PER_MESSAGE", DEFAULT_MAX_PER_MESSAGE))


# The private storage's "attachments/" corner (apps/core/storage.py): the filesystem or an
# S3-compatible bucket, as settings say; no URL either way.
_storage = PrivateFiles("attachments")


def private_attachment_storage():
    return _storage


def attachment_upload_to(instance, filename):
    return f"threads/{instance.message.thread_id}/{uuid.uuid4().hex}"


def sniff(head):
    """The content type of a file that starts with `head` (the first few KB), or "" when it is
    none of the allowed kinds."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "image/heic"
    if _is_plain_text(head):
        return "text/plain"
    return ""


def _is_plain_text(head):
    if not head or b"\x00" in head:
        return False
    # The head may end inside a multibyte character: ignore an incomplete tail.
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        return False
    return not _MARKUP.search(head)


def clean_filename(name):
    name = os.path.basename((name or "").replace("\\", "/"))
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().strip(".") or "attachment"
    return name[-200:]


class AttachmentRejected(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def inspect_upload(upload):
    """Check one uploaded file. Returns (content_type, size, sha256, filename) or raises
    AttachmentRejected with a message fit for the person who uploaded it."""
    name = clean_filename(getattr(upload, "name", ""))
    size = getattr(upload, "size", None)
    limit = max_bytes()
    if size is not None and size > limit:
        raise AttachmentRejected(f"{name} is larger than {limit // (1024 * 1024)} MB.")
    digest = hashlib.sha256()
    head = b""
    total = 0
    upload.seek(0)
    for chunk in upload.chunks():
        if len(head) < 4096:
            head += chunk[: 4096 - len(head)]
        digest.update(chunk)
        total += len(chunk)
        if total > limit:
            raise AttachmentRejected(f"{name} is larger than {limit // (1024 * 1024)} MB.")
    upload.seek(0)
    if total == 0:
        raise AttachmentRejected(f"{name} is empty.")
    content_type = sniff(head)
    if not content_type:
        raise AttachmentRejected(f"{name} is not a PDF, an image (PNG, JPEG, HEIC) or a plain text file.")
    label, extensions = ALLOWED[content_type]
    ext = os.path.splitext(name)[1].lower()
    known = {e for _, exts in ALLOWED.values() for e in exts}
    if ext in known and ext not in extensions:
        raise AttachmentRejected(f"{name} is not what its name says: its contents are a {label}.")
    if ext not in extensions:
        name = (name + EXTENSION_FOR[content_type])[-200:]
    return content_type, total, digest.hexdigest(), name


def download_response(attachment):
    """The file of an access-checked attachment as a download (the portal's view and the API
    alike): never sniffed or rendered inline, never cached. Http404 when the file is gone."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404()
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
