"""Static files in production: whitenoise's compressed manifest storage, forgiving.

The manifest storage writes hashed, compressed copies at `collectstatic` (the Procfile's
release step) and `{% static %}` answers the hashed name. A name missing from the manifest
(collectstatic not run, or a file added since) makes Django's storage raise ValueError from
inside the template, so every page using it, the 404 page included, answers 500. Here such a
name is served under its plain name instead (whitenoise still serves it when the file is in
STATIC_ROOT), and the miss is logged once per name and process."""
import logging
import threading

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
