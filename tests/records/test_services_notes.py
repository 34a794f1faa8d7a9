"""Visit notes: draft, edit, sign through the transition helper; signed notes never change (the
service and the database); addenda; the visit summary is released when the visit is completed
and the note signed, whichever comes second, once, with a notification through the outbox."""
import pytest
from django.db import IntegrityError, connection, transaction

from apps.core.exceptions import ValidationFailed
from apps.messaging.models import OutboundMessage
from apps.records import services
from apps.records.exceptions import NoteIncomplete, NoteNotSigned, NoteSigned, NotVisitProvider, VisitNotNoted
from apps.records.models import VisitNote, VisitNoteEvent, VisitSummary
from apps.scheduling import services as scheduling
from apps.scheduling.models import Visit
from tests.records.factories import make_visit, provider_for, write_note

pytestmark = pytest.mark.django_db


def test_the_visits_provider_writes_and_signs_a_note_with_an_event_row(visit, provider_user):
    note = write_note(visit, provider_user, sign=True)
    note.refresh_from_db()
    assert note.status == VisitNote.Status.SIGNED
    assert note.signed_by == provider_user and note.signed_at is not None
    assert note.diagnosis_codes == ["J02.9"]
    event = VisitNoteEvent.objects.get(note=note)
    assert (event.from_status, event.to_status, event.actor) == ("DRAFT", "SIGNED", provider_user)


def test_another_provider_cannot_write_the_note(visit, nurse):
    other = provider_for(nurse)
    assert other != visit.provider
    with pytest.raises(NotVisitProvider):
        services.visit_note_start(visit=visit, actor=nurse)


def test_a_cancelled_visit_gets_no_note(patient, provider, provider_user):
    visit = make_visit(patient, provider, status=Visit.Status.CANCELLED)
    with pytest.raises(VisitNotNoted):
        services.visit_note_start(visit=visit, actor=provider_user)


def test_a_note_is_not_signed_without_assessment_and_plan(visit, provider_user):
    note = write_note(visit, provider_user, assessment="", plan=" ")
    with pytest.raises(NoteIncomplete) as exc:
        services.visit_note_sign(note=note, actor=provider_user)
    assert set(exc.value.extra["fields"]) == {"assessment", "plan"}
    assert VisitNote.objects.get(pk=note.pk).status == "DRAFT"


def test_bad_icd10_codes_are_refused_naming_the_field(visit, provider_user):
    note = services.visit_note_start(visit=visit, actor=provider_user)
    with pytest.raises(ValidationFailed) as exc:
        services.visit_note_update(note=note, actor=provider_user, diagnosis_codes=["J02.9", "not-a-code"])
    assert "diagnosis_codes" in exc.value.extra["fields"]
    assert VisitNote.objects.get(pk=note.pk).diagnosis_codes == []


def test_nul_in_a_note_is_refused_before_the_database(visit, provider_user):
    note = services.visit_note_start(visit=visit, actor=provider_user)
    with pytest.raises(ValidationFailed) as exc:
        services.visit_note_update(note=note, actor=provider_user, subjective="pain\x00")
    assert exc.value.extra["fields"]["subjective"] == ["Null characters are not allowed."]


def test_a_signed_note_cannot_be_edited_or_signed_again(visit, provider_user):
    note = write_note(visit, provider_user, sign=True)
    with pytest.raises(NoteSigned):
        services.visit_note_update(note=note, actor=provider_user, plan="Something else")
    with pytest.raises(NoteSigned):
        services.visit_note_sign(note=note, actor=provider_user)
    assert VisitNote.objects.get(pk=note.pk).plan == "Fluids, rest, paracetamol."


def test_the_database_refuses_changing_a_signed_note_even_by_raw_update(visit, provider_user):
    note = write_note(visit, provider_user, sign=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitNote.objects.filter(pk=note.pk).update(plan="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE records_visitnote SET assessment = 'rewritten' WHERE id = %s", [note.pk.hex if connection.vendor == "sqlite" else note.pk])
    assert VisitNote.objects.get(pk=note.pk).assessment == "Viral pharyngitis."


def test_the_database_lets_a_draft_change(visit, provider_user):
    note = write_note(visit, provider_user)
    assert VisitNote.objects.filter(pk=note.pk).update(plan="changed") == 1


def test_addenda_go_on_signed_notes_only_and_never_change(visit, provider_user):
    note = write_note(visit, provider_user)
    with pytest.raises(NoteNotSigned):
        services.note_addendum_add(note=note, actor=provider_user, text="Also")
    services.visit_note_sign(note=note, actor=provider_user)
    addendum = services.note_addendum_add(note=note, actor=provider_user, text="Rapid strep negative.")
    assert (addendum.author, addendum.text) == (provider_user, "Rapid strep negative.")
    assert addendum.created_at is not None
    from apps.records.models import NoteAddendum
    with pytest.raises(IntegrityError), transaction.atomic():
        NoteAddendum.objects.filter(pk=addendum.pk).update(text="changed")


def test_signing_before_completion_releases_the_summary_when_the_visit_completes(visit, provider_user, patient):
    note = write_note(visit, provider_user, sign=True)
    assert not VisitSummary.objects.exists()
    scheduling.visit_complete(visit=visit, actor=provider_user)
    summary = VisitSummary.objects.get(visit=visit)
    assert summary.note == note and summary.patient == patient
    assert summary.assessment == "A throat infection caused by a virus."
    assert summary.follow_up == "Come back if not better in a week."
    kinds = set(OutboundMessage.objects.filter(patient=patient).values_list("kind", flat=True))
    assert "visit_summary_ready" in kinds


def test_completing_first_then_signing_releases_the_summary_once(visit, provider_user, patient):
    scheduling.visit_complete(visit=visit, actor=provider_user)
    note = write_note(visit, provider_user)
    assert not VisitSummary.objects.exists()
    services.visit_note_sign(note=note, actor=provider_user)
    assert VisitSummary.objects.filter(visit=visit).count() == 1
    services.visit_summary_release(note=VisitNote.objects.get(pk=note.pk))
    assert VisitSummary.objects.count() == 1
    assert OutboundMessage.objects.filter(patient=patient, kind="visit_summary_ready").count() == \
        OutboundMessage.objects.filter(patient=patient, kind="visit_summary_ready").values("channel").distinct().count()


def test_an_unsigned_note_releases_no_summary_on_completion(visit, provider_user):
    write_note(visit, provider_user)
    scheduling.visit_complete(visit=visit, actor=provider_user)
    assert not VisitSummary.objects.exists()
