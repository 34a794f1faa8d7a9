"""The invariants the database keeps by itself, proven by writing around the services: direct ORM
creates and raw SQL raise IntegrityError. A published template never changes (model guard and
trigger, raw UPDATE included); a plan out of DRAFT keeps its content and lines (triggers); a room or a surgeon is never double-booked (exclusion constraint
on PostgreSQL, triggers on SQLite)."""
import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.consents import services
from apps.consents.exceptions import PlanFrozen, TemplatePublished
from apps.consents.models import (
    CaseItem, ConsentForm, ConsentTemplate, ProcedureLine, ProcedurePlan, SurgicalCase, TheatreBooking,
)
from tests.consents.factories import RoomFactory, TemplateFactory

pytestmark = pytest.mark.django_db


def refused_by_database(make):
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            make()


# --- consents -------------------------------------------------------------------------------------

def test_a_procedure_consent_without_its_plan_and_consultation_cannot_exist(flow):
    flow.approve()
    common = dict(template=flow.template, kind="PROCEDURE", patient=flow.patient)
    refused_by_database(lambda: ConsentForm.objects.create(**common))
    refused_by_database(lambda: ConsentForm.objects.create(plan=flow.plan, **common))
    refused_by_database(lambda: ConsentForm.objects.create(consultation=flow.consultation, **common))
    ConsentForm.objects.create(plan=flow.plan, consultation=flow.consultation, **common)  # both: accepted


def test_a_signed_consent_without_its_document_and_hash_cannot_exist(flow):
    consent = flow.send()
    refused_by_database(lambda: ConsentForm.objects.filter(pk=consent.pk).update(status="SIGNED"))
    refused_by_database(lambda: ConsentForm.objects.filter(pk=consent.pk).update(
        status="SIGNED", signed_at=timezone.now(), expires_at=timezone.now(), signature_kind="TYPED",
        typed_name="x", document="{}", document_sha256="not-a-hash"))


def test_two_active_consents_for_one_plan_cannot_exist(flow):
    flow.send()
    refused_by_database(lambda: ConsentForm.objects.create(template=flow.template, kind="PROCEDURE", patient=flow.patient,
                                                           plan=flow.plan, consultation=flow.consultation))


def test_a_revoked_consent_without_a_reason_cannot_exist(flow):
    consent = flow.sign()
    refused_by_database(lambda: ConsentForm.objects.filter(pk=consent.pk).update(status="REVOKED", revoked_at=timezone.now()))


# --- plans --------------------------------------------------------------------------------------------

def test_an_approved_plan_without_its_approver_cannot_exist(flow):
    plan = flow.draft()
    refused_by_database(lambda: ProcedurePlan.objects.filter(pk=plan.pk).update(status="APPROVED"))
    refused_by_database(lambda: ProcedurePlan.objects.filter(pk=plan.pk).update(status="CANCELLED"))  # no reason
    refused_by_database(lambda: ProcedureLine.objects.create(plan=plan, code="ABC", description="x", estimated_fee=1))
    refused_by_database(lambda: ProcedureLine.objects.create(plan=plan, code="15823", description="x", estimated_fee=-1))


def test_an_approved_plans_content_is_frozen_by_the_model(flow):
    plan = flow.approve()
    plan.notes = "Changed after approval"
    with pytest.raises(PlanFrozen):
        plan.save()
    line = plan.lines.first()
    line.estimated_fee = 1
    with pytest.raises(PlanFrozen):
        line.save()
    with pytest.raises(PlanFrozen):
        ProcedureLine(plan=plan, code="15824", description="x", estimated_fee=1).save()
    with pytest.raises(PlanFrozen):
        line.delete()


def test_an_approved_plans_content_is_frozen_by_the_database(flow):
    plan = flow.approve()
    line = plan.lines.first()

    refused_by_database(lambda: ProcedurePlan.objects.filter(pk=plan.pk).update(notes="Changed after approval"))
    refused_by_database(lambda: ProcedurePlan.objects.filter(pk=plan.pk).update(quote_total=1))
    refused_by_database(lambda: ProcedurePlan.objects.filter(pk=plan.pk).update(version=9))
    refused_by_database(lambda: ProcedureLine.objects.filter(pk=line.pk).update(estimated_fee=1))
    refused_by_database(lambda: ProcedureLine.objects.bulk_create([
        ProcedureLine(plan=plan, code="15824", description="x", estimated_fee=1)]))
    with connection.cursor() as cursor:
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute("UPDATE consents_procedureplan SET notes = 'raw' WHERE id = %s", [plan.pk.hex if
                           connection.vendor == "sqlite" else str(plan.pk)])
    if connection.vendor == "postgresql":  # SQLite's flush empties tables with DELETE (migration 0005)
        refused_by_database(lambda: ProcedureLine.objects.filter(pk=line.pk).delete())

    # What is not clinical content still moves: the planned date, a status move with its fields.
    assert ProcedurePlan.objects.filter(pk=plan.pk).update(planned_date=timezone.localdate()) == 1
    services.procedure_plan_cancel(plan=plan, reason="Patient moved", actor=flow.surgeon_user)
    plan.refresh_from_db()
    assert (plan.status, plan.notes, plan.lines.count()) == ("CANCELLED", "Day surgery", 2)


def test_a_draft_plans_content_and_lines_stay_editable_in_the_database(flow):
    plan = flow.draft()

    assert ProcedurePlan.objects.filter(pk=plan.pk).update(notes="Edited while a draft") == 1
    assert ProcedureLine.objects.filter(plan=plan).update(estimated_fee=10) == 2
    ProcedureLine.objects.create(plan=plan, code="15824", description="Brow lift", estimated_fee=1)
    assert ProcedureLine.objects.filter(plan=plan).delete()[0] == 3


# --- cases --------------------------------------------------------------------------------------------

def test_a_case_without_its_plan_or_consent_cannot_exist(flow):
    flow.sign()
    common = dict(patient=flow.patient, surgeon=flow.surgeon, anaesthesia_type="GENERAL")
    refused_by_database(lambda: SurgicalCase.objects.create(plan=flow.plan, **common))
    refused_by_database(lambda: SurgicalCase.objects.create(consent=flow.consent, **common))
    SurgicalCase.objects.create(plan=flow.plan, consent=flow.consent, **common)
    refused_by_database(lambda: SurgicalCase.objects.create(plan=flow.plan, consent=flow.consent, **common))  # a second


def test_an_implant_without_serial_or_an_item_without_lot_cannot_exist(flow):
    case = flow.case_create()
    refused_by_database(lambda: CaseItem.objects.create(case=case, kind="IMPLANT", name="Implant", manufacturer="Acme",
                                                        lot_number="L1"))
    refused_by_database(lambda: CaseItem.objects.create(case=case, kind="CONSUMABLE", name="Gauze", manufacturer="Acme",
                                                        lot_number=""))


def _booking(case, room, surgeon, start, hours=2, status="BOOKED"):
    return TheatreBooking.objects.create(case=case, room=room, surgeon=surgeon, start=start,
                                         end=start + datetime.timedelta(hours=hours), status=status)


def test_a_room_or_a_surgeon_is_never_double_booked_in_the_database(flow, other_flow):
    case, other = flow.case_create(), other_flow.case_create()
    room, other_room = RoomFactory(), RoomFactory()
    start = (timezone.now() + datetime.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    _booking(case, room, flow.surgeon, start, hours=3)

    # The same room, overlapping, another surgeon.
    refused_by_database(lambda: _booking(other, room, other_flow.surgeon, start + datetime.timedelta(hours=1)))
    # The same surgeon, another room, overlapping.
    refused_by_database(lambda: _booking(other, other_room, flow.surgeon, start - datetime.timedelta(hours=1)))
    # Touching is not overlapping; a cancelled booking holds nothing.
    _booking(other, room, other_flow.surgeon, start + datetime.timedelta(hours=3))
    TheatreBooking.objects.filter(case=case).update(status="CANCELLED")
    later = _booking(case, room, flow.surgeon, start + datetime.timedelta(hours=6))
    # Moving a booking onto another one is refused too (UPDATE).
    refused_by_database(lambda: TheatreBooking.objects.filter(pk=later.pk).update(start=start + datetime.timedelta(hours=2)))
    refused_by_database(lambda: TheatreBooking.objects.filter(case=case, status="CANCELLED").update(status="BOOKED"))


# --- templates ---------------------------------------------------------------------------------------

def test_a_published_template_never_changes_through_the_model():
    template = TemplateFactory()
    template.title = "Edited"
    with pytest.raises(TemplatePublished):
        template.save()
    with pytest.raises(TemplatePublished):
        template.delete()
    draft = TemplateFactory(published_at=None)
    draft.title = "Still a draft"
    draft.save()


def test_a_published_template_never_changes_through_an_orm_update_or_raw_sql():
    template = TemplateFactory()
    refused_by_database(lambda: ConsentTemplate.objects.filter(pk=template.pk).update(title="Edited"))
    refused_by_database(lambda: ConsentTemplate.objects.filter(pk=template.pk).update(published_at=None))
    pk = template.pk.hex if connection.vendor == "sqlite" else template.pk

    def raw(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])

    refused_by_database(lambda: raw("UPDATE consents_consenttemplate SET sections = '[]' WHERE id = %s"))
    if connection.vendor == "postgresql":  # SQLite's flush empties tables with DELETE (migration 0002)
        refused_by_database(lambda: ConsentTemplate.objects.filter(pk=template.pk).delete())
        refused_by_database(lambda: raw("DELETE FROM consents_consenttemplate WHERE id = %s"))
    assert ConsentTemplate.objects.get(pk=template.pk).title == "Consent to surgery"

    draft = TemplateFactory(published_at=None)
    assert ConsentTemplate.objects.filter(pk=draft.pk).update(title="Drafts are editable") == 1


def test_on_sqlite_the_guards_are_triggers(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's guards")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'consents_%' ORDER BY name")
        assert [r[0] for r in cursor.fetchall()] == [
            "consents_plan_frozen_update", "consents_plan_lines_frozen_insert", "consents_plan_lines_frozen_update",
            "consents_template_immutable_update", "consents_theatre_no_overlap_insert", "consents_theatre_no_overlap_update"]


def test_on_postgresql_the_guards_are_a_trigger_and_two_exclusion_constraints(requires_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE contype = 'x' AND conrelid = 'consents_theatrebooking'::regclass"
                       " ORDER BY conname")
        assert [r[0] for r in cursor.fetchall()] == ["theatre_room_no_overlap", "theatre_surgeon_no_overlap"]
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'consents_consenttemplate'::regclass AND NOT tgisinternal")
        assert [r[0] for r in cursor.fetchall()] == ["consents_template_immutable"]
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid IN ('consents_procedureplan'::regclass,"
                       " 'consents_procedureline'::regclass) AND NOT tgisinternal ORDER BY tgname")
        assert [r[0] for r in cursor.fetchall()] == ["consents_plan_frozen", "consents_plan_lines_frozen"]


def test_a_new_version_copies_a_published_template_into_a_draft():
    template = TemplateFactory()
    new = services.consent_template_new_version(template=template)
    assert (new.key, new.version, new.is_published, new.sections) == (template.key, 2, False, template.sections)
    new.sections[0]["title"] = "Edited in the draft"
    new.save()
    published = services.consent_template_publish(template=new)
    assert published.is_published and ConsentTemplate.objects.get(pk=template.pk).sections[0]["title"] == "The procedure"
