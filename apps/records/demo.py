"""The records app's demo chart for the demo patient (patient@clinic.test), kept by Dr. Shah
through the clinic's own services: two problems, an allergy, two current medications and three
released HbA1c results with their range (a trend to see in the portal, the older ones high).
Idempotent: a patient who has a chart already is left alone.

Try: as provider@clinic.test open today's walk-in visit of the demo patient (in progress, seeded
here whatever the hour), complete it, write and sign its note ("Notes to sign",
/staff/records/notes/), enter and release a lab on the patient's records page; as the patient
read /portal/records/, request a refill, upload an insurance card and open "Who viewed my record"."""
import datetime
from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import User
from apps.core import demo
from apps.patients.models import Patient
from apps.records import services
from apps.records.models import Allergy, LabResult, Medication, Problem
from apps.scheduling import services as scheduling
from apps.scheduling.demo import DEMO_LOCATION, DEMO_VISIT_TYPE
from apps.scheduling.models import Location, Provider, VisitType

DEMO_PATIENT = "patient@clinic.test"
DEMO_PROVIDER = "provider@clinic.test"
HBA1C = [(270, "7.4"), (150, "6.9"), (14, "6.4")]  # days ago, value (%)


@demo.contribute(order=80)
def seed_records(now=None):
    now = now or timezone.now()
    patient = Patient.objects.filter(user__email=DEMO_PATIENT).first()
    user = User.objects.filter(email=DEMO_PROVIDER).first()
    provider = Provider.objects.filter(user=user).first() if user else None
    if patient is None or provider is None:
        return ["records: no demo patient or provider"]
    if Problem.objects.filter(patient=patient).exists():
        return [f"records: {DEMO_PATIENT} has a chart already"]
    create = services.chart_entry_create
    create(model=Problem, patient=patient, actor=user, code="I10", description="High blood pressure",
           onset_date=datetime.date(2019, 5, 1))
    create(model=Problem, patient=patient, actor=user, code="E11.9", description="Type 2 diabetes",
           onset_date=datetime.date(2021, 9, 1))
    create(model=Allergy, patient=patient, actor=user, substance="Penicillin", reaction="Hives",
           severity=Allergy.Severity.MODERATE)
    create(model=Medication, patient=patient, actor=user, name="Lisinopril", dose="10 mg", route=Medication.Route.ORAL,
           frequency="once a day", prescriber=provider, start_date=datetime.date(2019, 5, 15))
    create(model=Medication, patient=patient, actor=user, name="Metformin", dose="500 mg", route=Medication.Route.ORAL,
           frequency="twice a day with meals", prescriber=provider, start_date=datetime.date(2021, 9, 10))
    for days_ago, value in HBA1C:
        collected = now - datetime.timedelta(days=days_ago)
        result = services.lab_result_create(
            patient=patient, actor=user, test_name="Hemoglobin A1c", loinc_code="4548-4", value=value, unit="%",
            reference_high=Decimal("5.6"), collected_at=collected, resulted_at=collected + datetime.timedelta(hours=20),
            ordering_provider=provider)
        services.lab_result_release(result=result, actor=user)
    out = [f"records: {DEMO_PATIENT}'s chart (2 problems, 1 allergy, 2 medications, "
           f"{LabResult.objects.filter(patient=patient).count()} released HbA1c results)"]
    visit = _todays_visit(patient, provider)
    if visit is not None:
        out.append(f"records: {DEMO_PATIENT} is with Dr. Shah now (a walk-in, in progress) for the note to write")
    return out


def _todays_visit(patient, provider):
    """Whatever the hour of seeding, a visit of today to complete and write the note of: the
    demo patient seen by Dr. Shah now, as a walk-in through scheduling's services (checked in
    and started). None when the demo location or visit type is missing."""
    location = Location.objects.filter(name=DEMO_LOCATION).first()
    visit_type = VisitType.objects.filter(name=DEMO_VISIT_TYPE, is_active=True).first()
    if location is None or visit_type is None:
        return None
    outcome = scheduling.visit_request_create_walk_in(patient=patient, location=location, reason="Blood pressure review",
                                                      visit_type=visit_type, actor=provider.user)
    visit = scheduling.visit_request_assign_immediate(request=outcome.request, provider=provider, actor=provider.user,
                                                      visit_type=visit_type)
    return scheduling.visit_start(visit=visit, actor=provider.user)


@demo.summary(order=80)
def records_summary():
    return ["Records: as provider@clinic.test see /staff/records/notes/ (complete today's walk-in and sign its note) and the patient's "
            "records page; as patient@clinic.test see /portal/records/ and 'Who viewed my record'."]
