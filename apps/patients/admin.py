from django.contrib import admin

from apps.audit.admin import AuditedModelAdmin
from apps.core.admin import ReadOnlyAdminMixin, ReadOnlyInline
from apps.patients.models import DuplicateReview, DuplicateReviewEvent, Patient, Registration, RegistrationEvent


class ReadOnlyAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Patient data changes through the staff pages and services (validation, MRNs, audit);
    the admin shows it and logs each view."""


EVENT_FIELDS = ["at", "from_status", "to_status", "actor", "actor_label", "reason", "data"]


class DuplicateReviewEventInline(ReadOnlyInline):
    """Who decided the review, from which status to which, and why (core.transitions)."""

    model = DuplicateReviewEvent
    fields = EVENT_FIELDS


class RegistrationEventInline(ReadOnlyInline):
    """Each step of the registration: email verified, sent to review, completed."""

    model = RegistrationEvent
    fields = EVENT_FIELDS


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    list_display = ["mrn", "last_name", "first_name", "date_of_birth", "phone", "created_at"]
    search_fields = ["mrn", "last_name", "first_name", "phone", "email"]
    list_filter = ["preferred_language", "sex_at_birth"]
    show_full_result_count = False


@admin.register(DuplicateReview)
class DuplicateReviewAdmin(ReadOnlyAdmin):
    list_display = ["id", "existing", "status", "reasons", "created_at", "resolved_at"]
    list_filter = ["status"]
    list_select_related = ["existing"]
    inlines = [DuplicateReviewEventInline]


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = ["user", "status", "created_at", "completed_at"]
    list_filter = ["status"]
    list_select_related = ["user"]
    inlines = [RegistrationEventInline]
