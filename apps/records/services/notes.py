"""Visit notes: the visit's provider starts a DRAFT, edits it, signs it (DRAFT -> SIGNED through
core's transition()); a signed note never changes (service and database trigger), corrections
are addenda. When the visit is COMPLETED and its note SIGNED, whichever happens second, the
visit summary is released to the portal and the patient notified (once)."""
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record
from apps.core.transitions import lock
from apps.records.exceptions import NoteIncomplete, NoteNotSigned, NoteSigned, NotVisitProvider, VisitNotNoted
from apps.records.models import NoteAddendum, VisitNote, VisitSummary
from apps.records.services._common import move, notify_patient, user_actor, validated
from apps.scheduling.models import Visit

N = VisitNote.Status
NOT_NOTED = {Visit.Status.CANCELLED, Visit.Status.NO_SHOW}


def _ensure_provider(visit_or_note, actor):
    user = user_actor(actor)
    provider_user_id = visit_or_note.provider.user_id
    if user is None or user.pk != provider_user_id:
        raise NotVisitProvider()


def visit_note_start(*, visit, actor):
    """The visit's note, created as an empty DRAFT the first time its provider opens it.
    Requires: actor is the visit's provider; the visit is not CANCELLED or NO_SHOW (409
    visit_not_noted). Idempotent: a second call returns the same note."""
    _ensure_provider(visit, actor)
    if visit.status in NOT_NOTED:
        raise VisitNotNoted(extra={"visit_status": visit.status})
    with transaction.atomic():
        note, created = VisitNote.objects.get_or_create(
            visit=visit, defaults={"patient_id": visit.patient_id, "provider_id": visit.provider_id,
                                   "created_by": user_actor(actor)},
        )
        if created:
            record("create", note)
    return note


def visit_note_update(*, note, actor, **fields):
    """Change a DRAFT note's fields (VisitNote.EDITABLE_FIELDS; diagnosis codes upper-cased).
    Requires: the note's provider; 409 note_signed once signed (the database refuses too)."""
    _ensure_provider(note, actor)
    unknown = set(fields) - set(VisitNote.EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        note = lock(VisitNote, note.pk)
        if note.status != N.DRAFT:
            raise NoteSigned()
        if "diagnosis_codes" in fields:
            fields["diagnosis_codes"] = [str(code).strip().upper() for code in fields["diagnosis_codes"] or []]
        for name, value in fields.items():
            setattr(note, name, value)
        validated(note)
        note.save(update_fields=[*fields, "updated_at"])
        record("update", note, detail={"fields": sorted(fields)})
    return note


def visit_note_sign(*, note, actor):
    """Sign a DRAFT note (-> SIGNED, signed_at/by): from here it never changes. Requires: the
    note's provider; an assessment and a plan (400 note_incomplete). Triggers: the visit
    summary's release when the visit is already COMPLETED."""
    _ensure_provider(note, actor)
    with transaction.atomic():
        note = lock(VisitNote, note.pk, related=("visit",))
        if note.status == N.SIGNED:
            raise NoteSigned()
        missing = [name for name in ("assessment", "plan") if not getattr(note, name).strip()]
        if missing:
            raise NoteIncomplete(extra={"fields": {name: ["Required before signing."] for name in missing}})
        move(note, N.SIGNED, actor=actor, reason="Signed", signed_at=timezone.now(), signed_by=user_actor(actor))
        if note.visit.status == Visit.Status.COMPLETED:
            visit_summary_release(note=note)
    return note


def note_addendum_add(*, note, actor, text):
    """An addendum (author, time, text) to a SIGNED note; a draft is edited instead (409
    note_not_signed). Addenda are never changed (database trigger)."""
    with transaction.atomic():
        note = lock(VisitNote, note.pk)
        if note.status != N.SIGNED:
            raise NoteNotSigned()
        addendum = validated(NoteAddendum(note=note, author=user_actor(actor), text=(text or "").strip()))
        addendum.save()
        record("create", addendum, patient_id=note.patient_id)
    return addendum


def _visit_reason(visit):
    request = getattr(visit, "request", None) if visit.request_id else None
    return (request.reason if request is not None and request.reason else visit.visit_type.name)


def visit_summary_release(*, note):
    """Release the patient-readable summary of a SIGNED note whose visit is COMPLETED (copied
    from the note's plain-words part), and tell the patient. Idempotent: the summary is
    released once (one per visit, one per note), and the outbox key is the summary's."""
    visit = note.visit
    if note.status != N.SIGNED or visit.status != Visit.Status.COMPLETED:
        return None
    summary, created = VisitSummary.objects.get_or_create(
        note=note,
        defaults={"visit": visit, "patient_id": note.patient_id, "reason": _visit_reason(visit),
                  "assessment": note.summary_assessment or note.assessment, "plan": note.plan,
                  "follow_up": note.follow_up, "medications_changed": note.medications_changed},
    )
    if created:
        record("create", summary)
        notify_patient(note.patient, kind="visit_summary_ready", title="Your visit summary is ready",
                       link=f"/portal/records/visits/{summary.pk}/", outbox_key=f"visit_summary:{summary.pk}")
    return summary


def on_visit_transition(change):
    """core.transitions listener (connected for Visit in AppConfig.ready()): a visit that
    becomes COMPLETED with its note already signed releases the summary, inside the same
    transaction as the completion."""
    if change.kind != "transition" or change.after != Visit.Status.COMPLETED:
        return
    note = VisitNote.objects.select_related("visit", "patient").filter(visit=change.obj, status=N.SIGNED).first()
    if note is not None:
        note.visit = change.obj
        visit_summary_release(note=note)
