"""The records app's data: visit notes, addenda and visit summaries (notes.py), problems,
allergies, medications and refill requests (chart.py), lab results (labs.py), documents
(documents.py) and the patient's own readings from their phone (readings.py). Every status has a
TRANSITIONS table and an event model subclassing core's TransitionEvent; only apps/records/services changes these rows."""
from apps.records.models.chart import (
    Allergy, AllergyEvent, Medication, MedicationEvent, Problem, ProblemEvent, RefillEvent, RefillRequest,
)
from apps.records.models.documents import Document
from apps.records.models.labs import LabResult, LabResultEvent
from apps.records.models.notes import NoteAddendum, VisitNote, VisitNoteEvent, VisitSummary
from apps.records.models.readings import PatientReading, ReadingKind, ReadingPermission

__all__ = [
    "Allergy", "AllergyEvent", "Medication", "MedicationEvent", "Problem", "ProblemEvent", "RefillEvent",
    "RefillRequest", "Document", "LabResult", "LabResultEvent", "NoteAddendum", "VisitNote", "VisitNoteEvent",
    "VisitSummary", "PatientReading", "ReadingKind", "ReadingPermission",
]
