"""Admin: the fee schedule, the visit types' default codes and the payers are edited here (clinic
admins and billing staff). Charges, invoices, payments, coverages, eligibility checks and
deposits are read-only: they change only through the services (locks, transitions, events, the
invoice counter, the 270/271 exchange); pages over patient data are audited."""
from django.contrib import admin

from apps.audit.admin import AuditedModelAdmin
from apps.billing.models import Charge, ChargeEvent, Invoice, InvoiceEvent, InvoiceLine, Payment, PaymentEvent, ServiceCode, VisitTypeCode
from apps.billing.models import Coverage, Deposit, EligibilityCheck, EligibilityCheckEvent, Payer
from apps.core.admin import ReadOnlyAdminMixin, ReadOnlyInline


@admin.register(ServiceCode)
class ServiceCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "system", "description", "price", "effective_from", "effective_to", "is_active"]
    list_filter = ["system", "is_active"]
    search_fields = ["code", "description"]


@admin.register(VisitTypeCode)
class VisitTypeCodeAdmin(admin.ModelAdmin):
    list_display = ["visit_type", "code", "quantity", "position"]
    list_select_related = ["visit_type"]


class ChargeEventInline(ReadOnlyInline):
    model = ChargeEvent


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "patient", "amount", "status", "service_date"]
    list_filter = ["status", "source"]
    list_select_related = ["patient"]
    inlines = [ChargeEventInline]


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine


class InvoiceEventInline(ReadOnlyInline):
    model = InvoiceEvent


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["display_number", "patient", "status", "patient_responsibility", "amount_due", "due_date"]
    list_filter = ["status"]
    list_select_related = ["patient"]
    inlines = [InvoiceLineInline, InvoiceEventInline]


class PaymentEventInline(ReadOnlyInline):
    model = PaymentEvent


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["receipt_number", "patient", "amount", "amount_refunded", "method", "status", "created_at"]
    list_filter = ["status", "method", "gateway"]
    list_select_related = ["patient"]
    inlines = [PaymentEventInline]


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
    """The payers a coverage names: their id at the clearinghouse (NM1*PR ... PI) is validated."""

    list_display = ["name", "payer_id", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "payer_id"]


@admin.register(Coverage)
class CoverageAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Insurance cards (added, changed and removed by billing staff through the services)."""

    list_display = ["patient", "payer", "member_id", "group_number", "priority", "relationship", "effective_from",
                    "effective_to", "is_active"]
    list_filter = ["priority", "is_active", "payer"]
    list_select_related = ["patient", "payer"]
    search_fields = ["member_id", "patient__mrn", "payer__name"]


class EligibilityCheckEventInline(ReadOnlyInline):
    model = EligibilityCheckEvent
    fields = ["at", "actor", "actor_label", "from_status", "to_status", "reason"]


@admin.register(EligibilityCheck)
class EligibilityCheckAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """270/271 exchanges and what the 271 said (the result as read)."""

    list_display = ["requested_at", "patient", "coverage", "service_type", "status", "outcome", "control_number"]
    list_filter = ["status", "outcome", "service_type"]
    list_select_related = ["patient", "coverage__payer"]
    search_fields = ["control_number", "patient__mrn"]
    inlines = [EligibilityCheckEventInline]


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Procedure plans' deposits (set by billing staff on the patient's billing page)."""

    list_display = ["plan", "patient", "amount", "invoice", "applied_to", "created_at"]
    list_select_related = ["patient", "plan", "invoice", "applied_to"]
