"""Admin: the fee schedule and the visit types' default codes are edited here (clinic admins and
billing staff). Charges, invoices and payments are read-only: they change only through the
services (locks, transitions, events, the invoice counter)."""
from django.contrib import admin

from apps.billing.models import Charge, ChargeEvent, Invoice, InvoiceEvent, InvoiceLine, Payment, PaymentEvent, ServiceCode, VisitTypeCode
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
