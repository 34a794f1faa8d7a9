"""MessageTemplate rendering: per kind and language, English fallback, generic fallback, only
PHI-free context, the seeded defaults, and the admin refusing a broken template."""
import pytest

from apps.messaging.models import Channel, MessageTemplate
from apps.messaging.outbox import message_enqueue
from apps.messaging.rendering import render_message
from tests.messaging.outbox_helpers import no_kick  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick")
SEEDED = {"offer_made", "offer_expiring", "offer_expired", "visit_booked", "visit_reminder", "visit_cancelled",
          "assigned_immediately", "follow_up"}


def test_the_data_migration_seeds_english_defaults_for_every_kind(db):
    assert set(MessageTemplate.objects.filter(language="en").values_list("kind", flat=True)) >= SEEDED


def test_renders_in_the_patients_language(db, settings):
    out = render_message(kind="visit_reminder", language="es", context={"visit_time": "lun 2 mar, 10:00", "location_name": "Centro"})
    assert out.template_language == "es"
    assert out.sms_body.startswith(f"{settings.CLINIC_NAME}: recordatorio") and "lun 2 mar, 10:00 en Centro" in out.sms_body


def test_falls_back_to_english(db):
    out = render_message(kind="offer_made", language="vi", context={"deadline": "Fri 17:00"})
    assert out.template_language == "en" and "Fri 17:00" in out.sms_body


def test_a_kind_without_a_template_gets_generic_words(db, settings):
    out = render_message(kind="something_new", language="en")
    assert out.subject == f"A new message from {settings.CLINIC_NAME}"
    assert "patient portal" in out.sms_body


def test_only_phi_free_context_reaches_a_template(db):
    MessageTemplate.objects.create(kind="leaky", language="en", subject="s", sms_body="Reason: {{ reason }} {{ diagnosis }}.", email_body="x")
    out = render_message(kind="leaky", context={"reason": "chest pain", "diagnosis": "angina"})
    assert out.sms_body == "Reason:  ."


def test_no_autoescaping_in_plain_text(db):
    out = render_message(kind="visit_booked", context={"visit_time": "Mon 10:00", "location_name": "O'Brien & Sons"})
    assert "O'Brien & Sons" in out.sms_body


def test_a_broken_template_falls_back_instead_of_failing(db):
    MessageTemplate.objects.filter(kind="follow_up", language="en").update(sms_body="{% if %}")
    out = render_message(kind="follow_up")
    assert "new message" in out.sms_body


def test_templates_cannot_include_files(db):
    MessageTemplate.objects.create(kind="inc", language="en", subject="s", sms_body='{% include "base.html" %}', email_body="x")
    assert "<html" not in render_message(kind="inc").sms_body


def test_queued_text_is_fixed_at_enqueue_time(patient):
    row = message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])[0]
    MessageTemplate.objects.filter(kind="follow_up").update(sms_body="changed")
    row.refresh_from_db()
    assert row.body != "changed"


def test_admin_refuses_a_template_that_does_not_compile(client_for, clinic_admin):
    client = client_for(clinic_admin)
    response = client.post("/admin/messaging/messagetemplate/add/", {
        "kind": "new_kind", "language": "en", "subject": "Hi", "sms_body": "{% if %}", "email_body": "ok",
    })
    assert response.status_code == 200
    assert "Template error" in response.content.decode()  # the form shows why
    assert not MessageTemplate.objects.filter(kind="new_kind").exists()
    good = client.post("/admin/messaging/messagetemplate/add/", {
        "kind": "new_kind", "language": "en", "subject": "Hi", "sms_body": "{{ clinic_name }}", "email_body": "ok",
    })
    assert good.status_code == 302
    assert MessageTemplate.objects.filter(kind="new_kind").exists()


def test_admin_shows_outbound_messages_read_only(client_for, clinic_admin, patient):
    row = message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])[0]
    client = client_for(clinic_admin)
    listing = client.get("/admin/messaging/outboundmessage/")
    assert listing.status_code == 200 and "follow_up" in listing.content.decode()
    page = client.get(f"/admin/messaging/outboundmessage/{row.pk}/change/")
    assert page.status_code == 200 and row.dedupe_key in page.content.decode()
    assert client.get("/admin/messaging/outboundmessage/add/").status_code == 403
