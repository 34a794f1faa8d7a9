"""Helpers for the secure-thread tests: make threads and files."""
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.messaging.threads import services

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 20
TEXT = "Blood pressure this morning: 120/80\nthanks\n".encode()
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def patient_thread(patient, subject="Question about my medication", body="Can I take it with food?", files=()):
    return services.thread_create(patient=patient, subject=subject, body=body, author=patient.user, files=files)


def staff_thread(staff, patient, subject="Your results", body="Your results are in.", files=()):
    return services.thread_create(patient=patient, subject=subject, body=body, author=staff, files=files)


__all__ = ["PDF", "PNG", "JPEG", "HEIC", "TEXT", "HTML", "upload", "patient_thread", "staff_thread", "io"]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def private_attachment_root(settings, tmp_path):
    """Attachments go to a temporary private directory (import this fixture into a module):
    the private storage's root is tmp_path / "private" (tests/conftest.py)."""
    return tmp_path / "private" / "attachments"
