"""Reads of the records app. access_<entity>(actor, id, action) answers through core's access
layer (404 for missing and not-theirs alike); the rest shape what pages, the API and the FHIR
layer show, each in a fixed number of queries."""
import datetime

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.core import access
from apps.records.models import (
    Allergy, Document, LabResult, Medication, NoteAddendum, PatientReading, Problem, ReadingKind, ReadingPermission,
    RefillRequest, VisitNote, VisitSummary,
)

MODELS = {
    "problem": Problem, "allergy": Allergy, "medication": Medication, "refill": RefillRequest,
    "note": VisitNote, "summary": VisitSummary, "lab": LabResult, "document": Document, "reading": PatientReading,
}


# --- querysets with what their pages need -----------------------------------------------------------

def problems():
    return Problem.objects.all()


def allergies():
    return Allergy.objects.all()


def medications():
    return Medication.objects.select_related("prescriber__user")


def refills():
    return RefillRequest.objects.select_related("medication", "patient", "prescriber__user", "decided_by")


def notes():
    return VisitNote.objects.select_related("visit__visit_type", "visit__location", "provider__user", "patient",
                                            "signed_by")


def summaries():
    return VisitSummary.objects.select_related("visit__provider__user", "visit__location")


def labs():
    return LabResult.objects.select_related("ordering_provider__user", "released_by")


def documents():
    return Document.objects.select_related("uploaded_by")


def readings():
    return PatientReading.objects.all()


_QUERYSETS = {Problem: problems, Allergy: allergies, Medication: medications, RefillRequest: refills,
              VisitNote: notes, VisitSummary: summaries, LabResult: labs, Document: documents,
              PatientReading: readings}


def access_entry(actor, model, pk, action=access.VIEW):
    """The row of `model` with id `pk` that `actor` may `action` (NotFound / PermissionDenied)."""
    return access.get(actor, _QUERYSETS[model](), pk, action)


def visible(actor, model, action=access.VIEW):
    """Every row of `model` the actor may `action`, with what its pages show preloaded."""
    return access.scope(actor, _QUERYSETS[model](), action)


def addenda_of(note):
    return list(NoteAddendum.objects.filter(note=note).select_related("author"))


# --- the portal ------------------------------------------------------------------------------------------

def patient_summary(patient):
    """The portal's first records page: active problems, active allergies, current medications
    (three queries)."""
    return {
        "problems": list(problems().filter(patient=patient, status=Problem.Status.ACTIVE)),
        "allergies": list(allergies().filter(patient=patient, status=Allergy.Status.ACTIVE)),
        "medications": list(medications().filter(patient=patient, status__in=Medication.CURRENT_STATUSES)),
    }


def medications_with_refills(patient):
    """The patient's medications, current first, each with `open_refill` (the REQUESTED
    request or None) and the last decided one (`last_refill`): two queries."""
    meds = list(medications().filter(patient=patient).order_by("status", "name"))
    latest = {}
    for refill in RefillRequest.objects.filter(patient=patient).order_by("medication_id", "-created_at"):
        latest.setdefault(refill.medication_id, {"open": None, "last": None})
        slot = "open" if refill.status == RefillRequest.Status.REQUESTED else "last"
        if latest[refill.medication_id][slot] is None:
            latest[refill.medication_id][slot] = refill
    for med in meds:
        found = latest.get(med.pk, {})
        med.open_refill, med.last_refill = found.get("open"), found.get("last")
    return meds


def released_labs(patient):
    return labs().filter(patient=patient, status=LabResult.Status.RELEASED)


def lab_trend(result, *, limit=12):
    """The released numeric results of the same test (LOINC) for the same patient, oldest
    first, up to `limit` (the newest ones): the points of the portal's small chart. One query."""
    rows = list(
        LabResult.objects.filter(patient_id=result.patient_id, loinc_code=result.loinc_code,
                                 status=LabResult.Status.RELEASED, value_numeric__isnull=False)
        .order_by("-collected_at")[:limit]
    )
    return rows[::-1]


def repeated_tests(patient):
    """LOINC codes with at least two released numeric results (worth a trend)."""
    return set(
        LabResult.objects.filter(patient=patient, status=LabResult.Status.RELEASED, value_numeric__isnull=False)
        .values("loinc_code").annotate(n=Count("id")).filter(n__gte=2).values_list("loinc_code", flat=True)
    )


# --- the patient's own readings ------------------------------------------------------------------------

def reading_permissions(patient, *, allowed_only=False):
    """{kind: bool} for every type of reading (no row: off), or with allowed_only the set of
    kinds turned on. One query."""
    on = set(ReadingPermission.objects.filter(patient=patient, allowed=True).values_list("kind", flat=True))
    if allowed_only:
        return on
    return {kind: kind in on for kind in ReadingKind.values}


def reading_trends(patient, *, per_kind=20, days=90):
    """The patient's readings of the last `days`, per type: {kind label: [readings, oldest
    first, at most `per_kind` (the newest)]}, types in their usual order, only those with a
    reading. One query (capped at 1000 rows)."""
    since = timezone.now() - datetime.timedelta(days=days)
    rows = list(readings().filter(patient=patient, measured_at__gte=since).order_by("kind", "-measured_at")[:1000])
    grouped = {}
    for row in rows:
        bucket = grouped.setdefault(row.kind, [])
        if len(bucket) < per_kind:
            bucket.append(row)
    return {kind: grouped[kind][::-1] for kind in ReadingKind.values if kind in grouped}


# --- staff queues --------------------------------------------------------------------------------------

def notes_to_sign(user):
    """The provider's DRAFT notes, oldest visit first."""
    return notes().filter(provider__user=user, status=VisitNote.Status.DRAFT).order_by("visit__start")


def refills_to_review(user):
    """REQUESTED refills waiting for this provider (theirs as prescriber, or with no
    prescriber), oldest first."""
    return refills().filter(Q(prescriber__user=user) | Q(prescriber__isnull=True),
                            status=RefillRequest.Status.REQUESTED).order_by("created_at")


def labs_to_release():
    return labs().select_related("patient").filter(status=LabResult.Status.ENTERED).order_by("created_at")


# --- who viewed my record -----------------------------------------------------------------------------------

# What an access-log entry was about, in the patient's words: (one row, a list of them).
_OBJECT_LABELS = {
    "patients.patient": ("your chart", "your chart"),
    "records.problem": ("a health problem", "your health problems"),
    "records.allergy": ("an allergy", "your allergies"),
    "records.medication": ("a medication", "your medications"),
    "records.refillrequest": ("a refill request", "your refill requests"),
    "records.visitnote": ("a visit note", "your visit notes"),
    "records.noteaddendum": ("a note addendum", "your note addenda"),
    "records.visitsummary": ("a visit summary", "your visit summaries"),
    "records.labresult": ("a test result", "your test results"),
    "records.document": ("a document", "your documents"),
    "scheduling.visit": ("a visit", "your visits"),
    "scheduling.visitrequest": ("a visit request", "your visit requests"),
}
_VERBS = {"read": "Viewed", "create": "Added", "update": "Updated", "export": "Exported", "delete": "Removed"}
_ROLE_LABELS = {"provider": "Provider", "nurse": "Nurse", "front_desk": "Front desk", "billing": "Billing",
                "clinic_admin": "Clinic administrator", "integrator": "Connected system", "staff": "Clinic staff"}


def record_viewers(patient, *, page=1, per_page=20):
    """The access log's entries about `patient` by clinic staff and integrators' keys (never
    the patient's own reads, nor system jobs), newest first, one page: a Paginator page whose
    rows carry `who`, `role_label`, `what` (two queries: count and page)."""
    queryset = (
        AccessLog.objects.for_patient(patient.pk)
        .filter(Q(actor_user__is_staff=True) | Q(actor_api_key__isnull=False))
        .select_related("actor_user", "actor_api_key")
        .order_by("-at", "-id")
    )
    paginator = Paginator(queryset, per_page)
    page_obj = paginator.get_page(page)
    for entry in page_obj.object_list:
        if entry.actor_api_key_id:
            entry.who = entry.actor_api_key.name
            entry.role_label = _ROLE_LABELS["integrator"]
        else:
            entry.who = entry.actor_user.full_name or "A member of the clinic staff"
            entry.role_label = _ROLE_LABELS.get(entry.role, "Clinic staff")
        one, many = _OBJECT_LABELS.get(entry.object_type, ("your information", "your information"))
        label = many if not entry.object_id else one
        entry.what = f"{_VERBS.get(entry.action, 'Opened')} {label}"
    return page_obj
