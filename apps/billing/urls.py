from django.urls import path

from apps.billing import portal_views as portal
from apps.billing import staff_views as staff
from apps.billing import webhooks

urlpatterns = [
    path("portal/billing/", portal.billing_home, name="portal_billing"),
    path("portal/billing/insurance/", portal.insurance, name="portal_billing_insurance"),
    path("portal/billing/invoices/<uuid:invoice_id>/", portal.invoice_detail, name="portal_billing_invoice"),
    path("portal/billing/invoices/<uuid:invoice_id>/pay/", portal.invoice_pay, name="portal_billing_pay"),
    path("portal/billing/payments/<uuid:payment_id>/", portal.payment_detail, name="portal_billing_payment"),
    path("portal/billing/payments/<uuid:payment_id>/receipt.pdf", portal.payment_receipt, name="portal_billing_receipt"),
    path("staff/billing/", staff.home, name="staff_billing"),
    path("staff/billing/ar/", staff.ar_report, name="staff_billing_ar"),
    path("staff/billing/charges/<uuid:charge_id>/", staff.charge_detail, name="staff_billing_charge"),
    path("staff/billing/charges/<uuid:charge_id>/<slug:verb>/", staff.charge_action, name="staff_billing_charge_action"),
    path("staff/billing/patients/<uuid:patient_id>/", staff.patient_billing, name="staff_billing_patient"),
    path("staff/billing/patients/<uuid:patient_id>/invoice/", staff.patient_invoice_create, name="staff_billing_invoice_create"),
    path("staff/billing/patients/<uuid:patient_id>/balance/", staff.balance, name="staff_billing_balance"),
    path("staff/billing/patients/<uuid:patient_id>/coverages/", staff.coverage_add, name="staff_billing_coverage_add"),
    path("staff/billing/plans/<uuid:plan_id>/deposit/", staff.plan_deposit, name="staff_billing_plan_deposit"),
    path("staff/billing/coverages/<uuid:coverage_id>/check/", staff.coverage_check, name="staff_billing_coverage_check"),
    path("staff/billing/coverages/<uuid:coverage_id>/remove/", staff.coverage_remove, name="staff_billing_coverage_remove"),
    path("staff/billing/invoices/<uuid:invoice_id>/", staff.invoice_detail, name="staff_billing_invoice"),
    path("staff/billing/invoices/<uuid:invoice_id>/<slug:verb>/", staff.invoice_action, name="staff_billing_invoice_action"),
    path("staff/billing/payments/<uuid:payment_id>/refund/", staff.payment_refund, name="staff_billing_refund"),
    path("staff/billing/payments/<uuid:payment_id>/receipt.pdf", staff.payment_receipt, name="staff_billing_receipt"),
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
]
