"""One private storage for patients' files (apps/core/storage.py): the filesystem by default,
an S3-compatible bucket when configured (tested against moto's in-process S3, no network);
neither gives a URL, and an attachment goes in and comes out through the access-checked
download view on both."""
import boto3
import pytest
from django.core.files.base import ContentFile
from moto import mock_aws

from apps.core.storage import PrivateFiles
from tests.conftest import login
from tests.messaging.thread_helpers import PDF, patient_thread, upload

BUCKET = "clinic-private-test"


@pytest.fixture
def s3_storage(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        settings.STORAGES = {**settings.STORAGES, "private": {"BACKEND": "apps.core.storage.PrivateS3Storage", "OPTIONS": {
            "bucket_name": BUCKET, "region_name": "us-east-1", "location": "clinic",
        }}}
        yield boto3.client("s3", region_name="us-east-1")


def _round_trip():
    files = PrivateFiles("attachments")
    name = files.save("threads/t1/scan", ContentFile(b"%PDF-1.4 private"))
    assert name == "threads/t1/scan"  # the prefix never reaches the database
    assert files.exists(name) and files.size(name) == len(b"%PDF-1.4 private")
    with files.open(name) as handle:
        assert handle.read() == b"%PDF-1.4 private"
    with pytest.raises(ValueError, match="no public URL"):
        files.url(name)
    return files, name


def test_the_filesystem_backend_keeps_files_under_the_private_root_with_no_url(settings, tmp_path):
    files, name = _round_trip()

    assert (tmp_path / "private" / "attachments" / "threads" / "t1" / "scan").read_bytes() == b"%PDF-1.4 private"
    files.delete(name)
    assert not files.exists(name)


def test_the_s3_backend_keeps_private_objects_in_the_bucket_with_no_url(s3_storage):
    files, name = _round_trip()

    body = s3_storage.get_object(Bucket=BUCKET, Key="clinic/attachments/threads/t1/scan")["Body"].read()
    assert body == b"%PDF-1.4 private"
    grants = s3_storage.get_object_acl(Bucket=BUCKET, Key="clinic/attachments/threads/t1/scan")["Grants"]
    assert all(grant["Grantee"].get("URI", "").endswith("/AllUsers") is False for grant in grants)
    files.delete(name)
    assert not files.exists(name)


@pytest.mark.django_db
def test_an_attachment_is_uploaded_and_downloaded_through_the_bucket(s3_storage, patient, client):
    thread = patient_thread(patient, files=[upload("scan.pdf", PDF)])
    attachment = thread.messages.get().attachments.get()

    keys = [o["Key"] for o in s3_storage.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == [f"clinic/attachments/{attachment.file.name}"]
    response = login(client, patient.user).get(f"/messages/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith('attachment; filename="scan.pdf"')
