"""Started the way the benchmark starts production (no collectstatic), every unmatched URL
answered 500: the 404 page's {% static %} failed under the manifest storage. Production's
storage (apps/core/storage.py) serves a name missing from the manifest unhashed instead, and
the Procfile's release step runs collectstatic."""
import json
import logging
from pathlib import Path

import pytest
from django.test import Client

from apps.core import storage

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION_STATIC = "apps.core.storage.ManifestStaticFilesStorage"


@pytest.fixture
def production_static(settings, tmp_path):
    """Production's static storage over an empty STATIC_ROOT: collectstatic never ran."""
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STATIC_ROOT.mkdir()
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STATIC}}
    return settings.STATIC_ROOT


def test_without_collectstatic_an_unmatched_url_answers_the_404_page(production_static, caplog, monkeypatch):
    monkeypatch.setattr(storage, "_reported", set())  # logged once per name and process
    with caplog.at_level(logging.WARNING, logger="apps.core.storage"):
        response = Client(raise_request_exception=False).get("/no-such-page/")

    assert response.status_code == 404
    assert b'href="/static/css/clinic.css"' in response.content
    assert "'css/clinic.css' is not in the manifest (was collectstatic run?)" in caplog.text


def test_without_collectstatic_the_sign_in_page_still_renders(production_static):
    response = Client(raise_request_exception=False).get("/accounts/login/")

    assert response.status_code == 200
    assert b'href="/static/css/clinic.css"' in response.content


def test_whitenoise_manifest_storage_alone_turned_the_404_page_into_a_500(settings, production_static):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}

    response = Client(raise_request_exception=False).get("/no-such-page/")

    assert response.status_code == 500  # what the fix prevents


def test_after_collectstatic_pages_use_the_hashed_names(production_static):
    (production_static / "staticfiles.json").write_text(json.dumps({
        "version": "1.1", "paths": {"css/clinic.css": "css/clinic.0123456789ab.css"},
    }))

    response = Client(raise_request_exception=False).get("/no-such-page/")

    assert response.status_code == 404
    assert b'href="/static/css/clinic.0123456789ab.css"' in response.content
    assert b'href="/static/img/favicon.svg"' in response.content  # not in this manifest: unhashed


def test_the_release_step_collects_static_files_before_migrating():
    release = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("release:"))

    assert release.startswith("release: python manage.py collectstatic --noinput && python manage.py migrate --noinput")
