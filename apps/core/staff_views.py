from django.shortcuts import render
from django.utils import timezone

from apps.core.decorators import staff_required
from apps.core.models import Heartbeat


@staff_required()
def staff_home(request):
    from apps.patients.models import DuplicateReview, Patient

    heartbeat = Heartbeat.objects.filter(name="worker").first()
    context = {
        "patient_count": Patient.objects.active().count() if request.user.has_perm("patients.view_patient") else None,
        "open_duplicates": DuplicateReview.objects.filter(status="open").count()
        if request.user.has_perm("patients.change_duplicatereview") else None,
        "heartbeat": heartbeat,
        "jobs_ok": heartbeat is not None and (timezone.now() - heartbeat.at).total_seconds() < 180,
    }
    return render(request, "core/staff_home.html", context)
