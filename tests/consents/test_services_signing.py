"""Signing: every clause acknowledged, every check answered right (a wrong answer gives its
explanation), the typed name is the legal name, a real PNG or a typed signature, a step-up in the
last 5 minutes; the canonical document and its SHA-256; progress saved and resumed; tampering
detected by verification, audited, and the dependent action refused."""
import datetime
import hashlib
import json

import pytest
from django.db import connection
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.consents import services
from apps.consents.exceptions import ConsentNotValid, SigningIncomplete, StepUpRequired
from apps.consents.models import ConsentForm, SurgicalCase
from apps.consents.signature import MAX_BYTES, validate_png
from apps.core.exceptions import ValidationFailed
from tests.consents.factories import ALL_CLAUSES, RIGHT_ANSWERS, png

pytestmark = pytest.mark.django_db


def unchanged(flow):
    flow.consent.refresh_from_db()
    flow.plan.refresh_from_db()
    return flow.consent.status == "PENDING" and flow.consent.document == "" and flow.plan.status == "CONSENT_PENDING"


@pytest.mark.parametrize("overrides, code", [
    ({"acknowledged": ALL_CLAUSES[:-1]}, "clauses_not_acknowledged"),
    ({"answers": {"fasting": "Yes"}}, "understanding_check_failed"),
    ({"answers": {}}, "understanding_check_failed"),
    ({"typed_name": "Somebody Else"}, "name_mismatch"),
    ({"signature_png": None}, "signature_required"),
    ({"signature_png": b"GIF89a not a png"}, "signature_invalid"),
    ({"signature_png": png(ink=False)}, "signature_invalid"),
    ({"signature_png": png(width=5000)}, "signature_invalid"),
    ({"signature_png": png()[:-20]}, "signature_invalid"),
])
def test_signing_refuses_each_broken_rule_and_changes_nothing(flow, overrides, code):
    flow.send()
    with pytest.raises(SigningIncomplete) as info:
        flow.sign(**overrides)
    assert info.value.code == code and info.value.status_code == 400
    assert unchanged(flow)


def test_a_wrong_answer_comes_back_with_its_explanation(flow):
    flow.send()
    with pytest.raises(SigningIncomplete) as info:
        flow.sign(answers={"fasting": "Yes"})
    assert "No food for 8 hours before surgery" in info.value.message
    assert info.value.extra["checks"][0]["key"] == "fasting"


@pytest.mark.parametrize("age", [None, datetime.timedelta(minutes=5, seconds=1), datetime.timedelta(hours=2)])
def test_signing_needs_a_step_up_within_five_minutes(flow, age):
    flow.send()
    with pytest.raises(StepUpRequired) as info:
        flow.sign(stepped_up_at=None if age is None else timezone.now() - age)
    assert info.value.status_code == 403 and info.value.code == "step_up_required"
    assert unchanged(flow)


def test_an_oversized_png_is_refused_before_it_is_read():
    with pytest.raises(SigningIncomplete) as info:
        validate_png(b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_BYTES + 1))
    assert info.value.code == "signature_invalid"


def test_a_typed_signature_is_the_alternative_to_drawing(flow):
    consent = flow.sign(signature_png=None, typed_signature=flow.patient.legal_name)
    assert (consent.status, consent.signature_kind, consent.signature_image) == ("SIGNED", "TYPED", None)


def test_the_name_matches_whatever_the_case_spacing_and_middle_name(flow):
    flow.patient.middle_name = "Ann"
    flow.patient.save()
    assert services.name_matches(f"  {flow.patient.first_name.upper()}   {flow.patient.last_name.lower()} ", flow.patient)
    assert services.name_matches(f"{flow.patient.first_name} Ann {flow.patient.last_name}.", flow.patient)
    assert not services.name_matches(flow.patient.first_name, flow.patient)


def test_a_signed_consent_holds_its_canonical_document_and_hash(flow):
    consent = flow.sign()
    flow.refresh()
    document = json.loads(consent.document)

    assert consent.document_sha256 == hashlib.sha256(consent.document.encode()).hexdigest()
    assert document["patient"]["legal_name"] == flow.patient.legal_name
    assert document["patient"]["date_of_birth"] == flow.patient.date_of_birth.isoformat()
    assert document["template"]["sections"][0]["clauses"][1]["text"].startswith("I understand the risks")
    assert document["answers"] == RIGHT_ANSWERS and document["acknowledged"] == sorted(ALL_CLAUSES)
    assert document["plan"]["lines"][0]["code"] == "15823"
    assert document["signature"]["image_sha256"] == hashlib.sha256(png()).hexdigest()
    assert (document["ip"], document["user_agent"]) == ("203.0.113.7", "pytest")
    assert consent.expires_at == consent.signed_at + datetime.timedelta(days=90)
    assert flow.plan.status == "CONSENT_SIGNED"
    assert services.consent_verify(consent=consent, purpose="test").valid


def test_progress_is_saved_and_resumed_and_a_wrong_answer_shows_its_explanation(flow):
    flow.send()
    consent, wrong = services.consent_save_progress(consent=flow.consent, acknowledged=["nature"],
                                                    answers={"fasting": "Yes"})
    assert [w["key"] for w in wrong] == ["fasting"]
    again = ConsentForm.objects.get(pk=consent.pk)  # another device
    assert again.acknowledged == ["nature"] and again.answers == {"fasting": "Yes"}
    with pytest.raises(ValidationFailed):
        services.consent_save_progress(consent=consent, acknowledged=["no-such-clause"], answers={})
    with pytest.raises(ValidationFailed):
        services.consent_save_progress(consent=consent, acknowledged=[], answers={"fasting": "Maybe"})


# --- tampering ---------------------------------------------------------------------------------------

TAMPERING = {
    "typed_name": "UPDATE consents_consentform SET typed_name = 'Someone Else' WHERE id = %s",
    "signed_at": "UPDATE consents_consentform SET signed_at = signed_at - interval '1 day' WHERE id = %s",
    "expires_at": None,  # set below per vendor
    "document": "UPDATE consents_consentform SET document = replace(document, 'bleeding', 'nothing') WHERE id = %s",
    "answers": "UPDATE consents_consentform SET progress = '{\"acknowledged\": [], \"answers\": {}}' WHERE id = %s",
    "signature": "UPDATE consents_consentform SET signature_sha256 = repeat('0', 64) WHERE id = %s",
}


def _tamper(field, pk):
    sql = TAMPERING[field]
    if field == "expires_at":
        sql = "UPDATE consents_consentform SET expires_at = %s WHERE id = %s"
        params = [timezone.now() + datetime.timedelta(days=3650), pk]
    else:
        params = [pk]
    if connection.vendor == "sqlite":
        sql = sql.replace("signed_at - interval '1 day'", "datetime(signed_at, '-1 day')")
        sql = sql.replace("repeat('0', 64)", "'" + "0" * 64 + "'")
    with connection.cursor() as cursor:
        cursor.execute(sql, [p.hex if hasattr(p, "hex") and connection.vendor == "sqlite" else p for p in params])
        assert cursor.rowcount == 1


@pytest.mark.parametrize("field", sorted(TAMPERING))
def test_a_tampered_consent_fails_verification_is_audited_and_no_case_is_created(flow, field):
    consent = flow.sign()
    _tamper(field, consent.pk)

    with pytest.raises(ConsentNotValid) as info:
        services.surgical_case_create(plan=flow.plan, consent=consent, anaesthesia_type="GENERAL")

    assert (info.value.code, info.value.status_code) == ("consent_tampered", 409)
    assert not SurgicalCase.objects.exists()
    entry = AccessLog.objects.get(object_id=str(consent.pk), detail__verification="failed")
    assert entry.detail["code"] == "consent_tampered" and entry.detail["purpose"] == "surgical_case_create"
    assert entry.patient_id == flow.patient.pk
