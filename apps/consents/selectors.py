"""Reads for the consents app. Access checks live here (access_*), through core's access layer
(apps/core/access.py, rules in apps/consents/rules.py): missing and not-yours answer alike
(NotFound); staff without the permission get PermissionDenied. Pages and the API record PHI
reads with audit.record*."""
from django.db.models import Prefetch

from apps.consents.models import (
    CaseItem, ConsentForm, ConsentTemplate, ConsultationVisitType, OperatingRoom, PreOpItem, ProcedureLine, ProcedurePlan,
    SurgicalCase, TheatreBooking,
)
from apps.core import access
from apps.core.exceptions import NotFound
from apps.core.lookups import get_or_not_found
from apps.patients.models import Patient
from apps.scheduling.models import Visit

PLAN_RELATED = ("patient", "surgeon__user", "consultation__visit_type", "approved_by")
CONSENT_RELATED = ("template", "patient", "plan__surgeon__user")
CASE_RELATED = ("patient", "plan", "consent", "surgeon__user")


def plans():
    return (ProcedurePlan.objects.select_related(*PLAN_RELATED)
            .prefetch_related(Prefetch("lines", queryset=ProcedureLine.objects.order_by("position", "id")),
                              Prefetch("preop_items", queryset=PreOpItem.objects.order_by("order", "id"))))


def consents():
    return ConsentForm.objects.select_related(*CONSENT_RELATED)


def cases():
    return (SurgicalCase.objects.select_related(*CASE_RELATED)
            .prefetch_related(Prefetch("bookings", queryset=TheatreBooking.objects.select_related("room").order_by("start")),
                              Prefetch("items", queryset=CaseItem.objects.order_by("recorded_at", "id"))))


# --- access -------------------------------------------------------------------------------------
# Portal pages ask *_for_patient (the signed-in patient's own rows; anyone else: NotFound), the
# API access_*(actor, id, action) with a staff user or an API key.

def _for_patient(user, queryset, pk, action=access.VIEW):
    if access.patient_of(user) is None:
        raise NotFound()
    return access.get(user, queryset, pk, action)


def access_plan_for_patient(user, plan_id):
    return _for_patient(user, plans(), plan_id)


def access_consent_for_patient(user, consent_id, *, action=access.VIEW):
    return _for_patient(user, consents(), consent_id, action)


def access_plan(actor, plan_id, action=access.VIEW):
    return access.get(actor, plans(), plan_id, action)


def access_consent(actor, consent_id, action=access.VIEW):
    return access.get(actor, consents(), consent_id, action)


def access_case(actor, case_id, action=access.VIEW):
    return access.get(actor, cases(), case_id, action)


def access_preop_item(actor, item_id, action=access.VIEW):
    return access.get(actor, PreOpItem.objects.select_related("plan"), item_id, action)


def access_template(actor, template_id):
    return access.get(actor, ConsentTemplate.objects.all(), template_id)


def access_room(actor, room_id):
    return access.get(actor, OperatingRoom.objects.filter(is_active=True), room_id)


def access_workflow_patient(actor, patient_id):
    """The patient whose workflow `actor` asks for: a patient only their own (NotFound for any
    other id); staff and API keys who may read procedure plans (else PermissionDenied) any
    active patient (a missing, malformed or merged id is NotFound)."""
    own = access.patient_of(actor)
    if own is not None:
        if str(own.pk) != str(patient_id):
            raise NotFound()
        return own
    access.scope(actor, ProcedurePlan.objects.none(), access.VIEW)
    return get_or_not_found(Patient.objects.active(), pk=patient_id)


# --- lists ---------------------------------------------------------------------------------------

def plans_for_patient(patient):
    return plans().filter(patient=patient).order_by("-created_at")


def consents_for_patient(patient):
    return consents().filter(patient=patient).order_by("-created_at")


def portal_consent_groups(patient, *, now=None):
    """The portal's /portal/consents/ lists: to sign, signed (in force), and the rest (expired,
    revoked, declined; a signed one past its date counts as expired)."""
    rows = list(consents_for_patient(patient))
    to_sign = [c for c in rows if c.status == ConsentForm.Status.PENDING]
    signed = [c for c in rows if c.status == ConsentForm.Status.SIGNED and not c.is_expired(now)]
    others = [c for c in rows if c not in to_sign and c not in signed]
    return to_sign, signed, others


def plan_list(*, patient=None, status=None, surgeon=None):
    qs = plans().order_by("-created_at")
    if patient is not None:
        qs = qs.filter(patient=patient)
    if status:
        qs = qs.filter(status=status)
    if surgeon is not None:
        qs = qs.filter(surgeon=surgeon)
    return qs


def consent_list(*, patient=None, status=None, plan=None):
    qs = consents().order_by("-created_at")
    if patient is not None:
        qs = qs.filter(patient=patient)
    if status:
        qs = qs.filter(status=status)
    if plan is not None:
        qs = qs.filter(plan=plan)
    return qs


def case_list(*, patient=None, status=None):
    qs = cases().order_by("-created_at")
    if patient is not None:
        qs = qs.filter(patient=patient)
    if status:
        qs = qs.filter(status=status)
    return qs


def published_templates():
    return ConsentTemplate.objects.filter(published_at__isnull=False).order_by("key", "-version")


def room_bookings(room, *, start, end):
    """The room's BOOKED theatre bookings overlapping [start, end), in time order."""
    return (TheatreBooking.objects.filter(room=room, status=TheatreBooking.Status.BOOKED, start__lt=end, end__gt=start)
            .select_related("case__patient", "surgeon__user").order_by("start"))


def items_with_lot(lot_number):
    """The lot-number trace: every recorded item of that lot, with its case and patient."""
    return CaseItem.objects.with_lot(lot_number).select_related("case__patient", "case__plan").order_by("recorded_at")


# --- staff pages ---------------------------------------------------------------------------------

def completed_consultations(patient):
    """The patient's COMPLETED consultation visits (a plan starts from one), newest first."""
    types = ConsultationVisitType.objects.values_list("visit_type_id", flat=True)
    return (Visit.objects.filter(patient=patient, visit_type_id__in=types, status=Visit.Status.COMPLETED)
            .select_related("visit_type", "provider__user").order_by("-start"))


def approval_queue(user):
    """Plans waiting for `user`'s approval as their surgeon, oldest submitted first."""
    return plans().filter(status=ProcedurePlan.Status.PENDING_APPROVAL, surgeon__user=user).order_by("submitted_at", "created_at")


def plan_versions(plan):
    """Every version of the plan's family, oldest first (previous_version links both ways)."""
    first = plan
    seen = {first.pk}
    while first.previous_version_id and first.previous_version_id not in seen:
        first = ProcedurePlan.objects.select_related("surgeon__user").get(pk=first.previous_version_id)
        seen.add(first.pk)
    chain = [first]
    while True:
        nxt = ProcedurePlan.objects.filter(previous_version=chain[-1]).select_related("surgeon__user").first()
        if nxt is None or nxt.pk in {p.pk for p in chain}:
            return chain
        chain.append(nxt)


def signed_consent_of_plan(plan):
    """The plan's SIGNED procedure consent (what a surgical case relies on), or None."""
    return (ConsentForm.objects.filter(plan=plan, kind="PROCEDURE", status=ConsentForm.Status.SIGNED)
            .select_related("template").order_by("-signed_at").first())


def theatre_day(*, start, end, room=None):
    """The BOOKED theatre bookings overlapping [start, end) of every active room (or `room`),
    grouped per room in name order: [(room, [bookings])]."""
    rooms = list(OperatingRoom.objects.filter(is_active=True).order_by("name") if room is None else [room])
    bookings = (TheatreBooking.objects.filter(status=TheatreBooking.Status.BOOKED, start__lt=end, end__gt=start,
                                              room__in=rooms)
                .select_related("case__patient", "case__plan", "surgeon__user", "room").order_by("start"))
    per_room = {r.pk: [] for r in rooms}
    for booking in bookings:
        per_room[booking.room_id].append(booking)
    return [(r, per_room[r.pk]) for r in rooms]


def plan_events(plan):
    return plan.events.select_related("actor").order_by("at", "id")


def consent_events(consent):
    return consent.events.select_related("actor").order_by("at", "id")


def case_events(case):
    return case.events.select_related("actor").order_by("at", "id")


def procedure_consent_of_plan(plan):
    """The procedure consent a case for `plan` would rely on: its signed one, else its latest
    (whose state the case's service then refuses with a clear code), or None."""
    return signed_consent_of_plan(plan) or (ConsentForm.objects.filter(plan=plan, kind="PROCEDURE")
                                            .select_related("template").order_by("-created_at").first())
