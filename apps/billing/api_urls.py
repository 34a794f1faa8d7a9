from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.billing.api import ChargeViewSet, InvoiceViewSet, PatientBalanceView, PaymentViewSet, ServiceCodeViewSet

router = SimpleRouter()
router.register("fee-schedule", ServiceCodeViewSet, basename="fee-schedule")
router.register("charges", ChargeViewSet, basename="charge")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("payments", PaymentViewSet, basename="payment")
urlpatterns = [
    path("patients/<uuid:patient_id>/balance/", PatientBalanceView.as_view(), name="patient-balance"),
    *router.urls,
]
