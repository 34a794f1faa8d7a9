"""Who may see and change the records app's rows (core's access layer, apps/core/access.py).

Patients see their own rows, and only what is meant for them: RELEASED lab results, SIGNED
notes, visit summaries, documents they uploaded or that staff shared, and their chart (problems,
allergies, medications). They change nothing here except asking for a refill (REFILL) and
uploading a document (UPLOAD), which the services check again. Another patient's row, an
unreleased result, an unsigned note or an unshared document answer 404 alike.

Staff act by the model permission of each action (apps/records/roles.py), after their second
factor; integrators' keys by scope: records:read, records:write (a lab interface creating and
releasing results, keeping the chart). Writing or signing a visit note is never open to an API
key (no scope): it is the provider's clinical act."""
from django.db.models import Q

from apps.core import access
from apps.records.models import (
    Allergy, Document, LabResult, Medication, NoteAddendum, PatientReading, Problem, RefillRequest, VisitNote,
    VisitSummary,
)

READ = "records:read"
WRITE = "records:write"

# Actions besides view / change.
CREATE, SIGN, RELEASE, DECIDE, SHARE, REFILL, UPLOAD = "create", "sign", "release", "decide", "share", "refill", "upload"


def _own(queryset, patient):
    return queryset.filter(patient=patient)


def _chart(model, *, patient_actions=(access.VIEW,)):
    name = model._meta.model_name
    access.register(
        model,
        own=_own,
        perms={access.VIEW: f"records.view_{name}", access.CHANGE: f"records.change_{name}",
               CREATE: f"records.add_{name}"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE, CREATE: WRITE},
        patient_actions=patient_actions,
    )


def register():
    _chart(Problem)
    _chart(Allergy)
    # A patient asks for refills of their own current medications.
    _chart(Medication, patient_actions=(access.VIEW, REFILL))
    access.register(
        RefillRequest,
        own=_own,
        perms={access.VIEW: "records.view_refillrequest", DECIDE: "records.decide_refillrequest"},
        scopes={access.VIEW: READ},
        patient_actions=(access.VIEW, access.CHANGE),
    )
    access.register(
        VisitNote,
        own=lambda queryset, patient: queryset.filter(patient=patient, status=VisitNote.Status.SIGNED),
        perms={access.VIEW: "records.view_visitnote", access.CHANGE: "records.change_visitnote",
               CREATE: "records.add_visitnote", SIGN: "records.sign_visitnote"},
        scopes={access.VIEW: READ},
        patient_actions=(access.VIEW,),
    )
    access.register(
        NoteAddendum,
        own=lambda queryset, patient: queryset.filter(note__patient=patient, note__status=VisitNote.Status.SIGNED),
        perms={access.VIEW: "records.view_noteaddendum", CREATE: "records.add_noteaddendum"},
        scopes={access.VIEW: READ},
        patient_actions=(access.VIEW,),
    )
    access.register(
        VisitSummary,
        own=_own,
        perms={access.VIEW: "records.view_visitsummary"},
        scopes={access.VIEW: READ},
        patient_actions=(access.VIEW,),
    )
    access.register(
        LabResult,
        own=lambda queryset, patient: queryset.filter(patient=patient, status=LabResult.Status.RELEASED),
        perms={access.VIEW: "records.view_labresult", CREATE: "records.add_labresult",
               RELEASE: "records.release_labresult"},
        scopes={access.VIEW: READ, CREATE: WRITE, RELEASE: WRITE},
        patient_actions=(access.VIEW,),
    )
    # The patient's own readings: they read theirs (they send them through
    # services.record_readings, which checks their sync permissions); the care team reads them.
    access.register(
        PatientReading,
        own=_own,
        perms={access.VIEW: "records.view_patientreading"},
        scopes={access.VIEW: READ},
        patient_actions=(access.VIEW,),
    )
    access.register(
        Document,
        own=lambda queryset, patient: queryset.filter(Q(patient=patient) & Q(shared_with_patient=True)),
        perms={access.VIEW: "records.view_document", UPLOAD: "records.add_document",
               SHARE: "records.share_document"},
        scopes={access.VIEW: READ, UPLOAD: WRITE, SHARE: WRITE},
        patient_actions=(access.VIEW, UPLOAD),
    )
