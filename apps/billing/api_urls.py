from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.billing.api import (
    ChargeViewSet, CoverageViewSet, EligibilityCheckViewSet, EstimateView, InvoiceViewSet, PatientBalanceView, PayerViewSet,
    PaymentViewSet, ServiceCodeViewSet,
)

router = SimpleRouter()
router.register("fee-schedule", ServiceCodeViewSet, basename="fee-schedule")
router.register("charges", ChargeViewSet, basename="charge")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("payments", PaymentViewSet, basename="payment")
router.register("payers", PayerViewSet, basename="payer")
router.register("coverages", CoverageViewSet, basename="coverage")
router.register("eligibility-checks", EligibilityCheckViewSet, basename="eligibility-check")
urlpatterns = [
    path("patients/<uuid:patient_id>/balance/", PatientBalanceView.as_view(), name="patient-balance"),
    path("estimates/", EstimateView.as_view(), name="estimate"),
    *router.urls,
]
