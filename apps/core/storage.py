"""Storages: static files in production, and the one private storage for patients' files.

Static files: whitenoise's compressed manifest storage, forgiving.

The manifest storage writes hashed, compressed copies at `collectstatic` (the Procfile's
release step) and `{% static %}` answers the hashed name. A name missing from the manifest
(collectstatic not run, or a file added since) makes Django's storage raise ValueError from
inside the template, so every page using it, the 404 page included, answers 500. Here such a
name is served under its plain name instead (whitenoise still serves it when the file is in
STATIC_ROOT), and the miss is logged once per name and process."""
import logging
import threading

from django.core.files.storage import FileSystemStorage, Storage, storages
from storages.backends.s3 import S3Storage
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)

_reported = set()
_reported_lock = threading.Lock()


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            with _reported_lock:
                first = name not in _reported
                _reported.add(name)
            if first:
                logger.warning("static file %r is not in the manifest (was collectstatic run?): served unhashed", name)
            return name


# --- private files ------------------------------------------------------------------------------
# Attachments, and soon consent PDFs, recordings and documents, go through one private storage,
# STORAGES["private"] (clinic/settings/base.py): the filesystem under PRIVATE_FILES_ROOT by
# default, or an S3-compatible bucket (django-storages) when PRIVATE_FILES_S3_BUCKET is set, so
# several web machines serve the same files. Neither has a public URL: files leave only through
# a view that checks access.

class PrivateFileSystemStorage(FileSystemStorage):
    """The filesystem backend of the private storage: no URL, ever."""

    def __init__(self, location=None, **kwargs):
        super().__init__(location=location, base_url=None, **kwargs)

    def url(self, name):
        raise ValueError("Private files have no public URL; serve them through a view that checks access.")


class PrivateS3Storage(S3Storage):
    """The S3-compatible backend of the private storage: private objects, no public URL (the
    app streams them through its access-checked views)."""

    default_acl = "private"
    file_overwrite = False
    querystring_auth = True

    def url(self, name, *args, **kwargs):
        raise ValueError("Private files have no public URL; serve them through a view that checks access.")


class PrivateFiles(Storage):
    """One app's corner of the private storage (`prefix`, e.g. "attachments"), usable as a
    FileField's storage. It looks STORAGES["private"] up on every use, so settings can change
    (tests) and every process uses the one configured backend; names stored in the database do
    not include the prefix."""

    def __init__(self, prefix):
        self.prefix = prefix.strip("/")

    @property
    def backend(self):
        return storages["private"]

    def _full(self, name):
        return f"{self.prefix}/{name}" if self.prefix else name

    def _short(self, name):
        return name[len(self.prefix) + 1:] if self.prefix and name.startswith(self.prefix + "/") else name

    def open(self, name, mode="rb"):
        return self.backend.open(self._full(name), mode)

    def save(self, name, content, max_length=None):
        full = self._full(name)
        extra = len(self.prefix) + 1 if self.prefix else 0
        return self._short(self.backend.save(full, content, max_length=max_length + extra if max_length else None))

    def delete(self, name):
        return self.backend.delete(self._full(name))

    def exists(self, name):
        return self.backend.exists(self._full(name))

    def size(self, name):
        return self.backend.size(self._full(name))

    def listdir(self, path):
        return self.backend.listdir(self._full(path))

    def path(self, name):
        return self.backend.path(self._full(name))

    def url(self, name):
        raise ValueError("Private files have no public URL; serve them through a view that checks access.")

    def get_valid_name(self, name):
        return self.backend.get_valid_name(name)

    def generate_filename(self, filename):
        return self.backend.generate_filename(filename)

    def get_available_name(self, name, max_length=None):
        return self._short(self.backend.get_available_name(self._full(name), max_length=max_length))

    def deconstruct(self):
        return ("apps.core.storage.PrivateFiles", (self.prefix,), {})
