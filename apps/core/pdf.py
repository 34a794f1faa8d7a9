"""PDFs from Django templates: `render_pdf(template_name, context) -> bytes`.

WeasyPrint renders HTML with the system's Pango. Left to itself it fetches whatever a document
points at: `file:///etc/passwd` as an image, `http://169.254.169.254/...` as a stylesheet. Our
documents hold what patients typed (names, answers), so the fetcher here refuses everything
except:
- `data:` URIs (a signature image embedded in the page), decoded in memory;
- our static files, written as `/static/<path>` (or relative to it), read through Django's
  staticfiles finders or STATIC_ROOT, never through a `file:` URL.
Anything else (file:, http(s):, ftp:, any other scheme or host) is refused; WeasyPrint then
leaves the resource out and the rest of the document still renders. Refusals are logged.

No app imports: consents (signed consent PDFs) and billing (receipts) both call this."""
import logging
import mimetypes
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# A base URL that no network can resolve (.invalid is reserved, RFC 2606) and that the
# fetcher never sends anywhere: relative references in a template ("/static/x.css") resolve
# against it (urljoin only joins http-like schemes), and the fetcher maps them to static files.
BASE_URL = "http://clinic-pdf.invalid/"
_STATIC_PREFIX = BASE_URL + "static/"


class RefusedURL(ValueError):
    """A document referred to a URL that the PDF renderer does not fetch."""


def _static_bytes(relative):
    """The bytes of one static file by its path under /static/, or None. Path traversal is
    refused: the resolved file must lie inside a static directory."""
    from django.contrib.staticfiles import finders

    relative = relative.split("?", 1)[0].split("#", 1)[0]
    if not relative or ".." in Path(relative).parts or relative.startswith("/"):
        return None
    found = finders.find(relative)
    if not found and settings.STATIC_ROOT:
        candidate = (Path(settings.STATIC_ROOT) / relative).resolve()
        if Path(settings.STATIC_ROOT).resolve() in candidate.parents and candidate.is_file():
            found = str(candidate)
    if not found:
        return None
    return Path(found).read_bytes()


def _fetcher_class():
    # Imported lazily: WeasyPrint loads Pango at import, which only PDF work should pay for.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class RestrictedURLFetcher(URLFetcher):
        """Fetches `data:` URIs and our static files; refuses everything else."""

        def __init__(self):
            super().__init__(timeout=1, allowed_protocols=("data",), allow_redirects=False)
            self.refused = []

        def fetch(self, url, headers=None):
            if url.startswith(_STATIC_PREFIX):
                body = _static_bytes(url[len(_STATIC_PREFIX):])
                if body is None:
                    return self._refuse(url, "no such static file")
                mime, _ = mimetypes.guess_type(url.split("?", 1)[0])
                return URLFetcherResponse(url, body, {"Content-Type": mime or "application/octet-stream"})
            if url[:5].lower() == "data:":
                return super().fetch(url, headers)
            return self._refuse(url, "outside URL")

        def _refuse(self, url, why):
            self.refused.append(url)
            logger.warning("pdf: refused to fetch %s (%s)", url[:200], why)
            raise RefusedURL(f"refused: {url[:200]}")

    return RestrictedURLFetcher


def restricted_url_fetcher():
    """A fresh fetcher (it records what it refused in `.refused`)."""
    return _fetcher_class()()


def render_pdf_from_html(html, *, fetcher=None):
    """The PDF bytes of an HTML string, fetched through the restricted fetcher."""
    from weasyprint import HTML

    fetcher = fetcher or restricted_url_fetcher()
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()


def render_pdf(template_name, context=None):
    """Render a Django template to PDF bytes. The template should be self-contained (inline
    CSS, `data:` images); `/static/...` references are served from our static files; nothing
    else is fetched."""
    html = render_to_string(template_name, context or {})
    return render_pdf_from_html(html)
