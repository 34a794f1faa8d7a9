"""The records app's domain errors (subclasses of core's DomainError; stable codes)."""
from apps.core.exceptions import Conflict, DomainError, PermissionDenied


class NoteSigned(Conflict):
    default_code = "note_signed"
    default_message = "This note is signed and cannot change: add an addendum instead."


class NoteNotSigned(Conflict):
    default_code = "note_not_signed"
    default_message = "Addenda are for signed notes: edit the draft instead."


class NoteIncomplete(DomainError):
    default_code = "note_incomplete"
    default_message = "Write at least the assessment and the plan before signing."


class NotVisitProvider(PermissionDenied):
    default_code = "not_visit_provider"
    default_message = "Only the visit's provider writes and signs its note."


class VisitNotNoted(Conflict):
    default_code = "visit_not_noted"
    default_message = "A note cannot be written for a cancelled or missed visit."


class RefillAlreadyOpen(Conflict):
    default_code = "refill_already_open"
    default_message = "A refill of this medication is already waiting for review."


class MedicationNotCurrent(Conflict):
    default_code = "medication_not_current"
    default_message = "Refills are for current medications only."


class DocumentRejected(DomainError):
    default_code = "document_rejected"
    default_message = "This file cannot be accepted."
