from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from apps.core import access
from apps.patients.selectors import registration_for_user


def patient_required(view):
    """A portal page: signed in as a patient whose record exists (request.patient, through
    core's access layer). Staff go to the staff pages; a registrant whose record is not ready
    yet sees the pending page and no PHI."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_staff:
            return redirect("staff_home")
        patient = access.patient_of(request.user)
        if patient is None:
            return render(request, "patients/portal_pending.html", {"registration": registration_for_user(request.user)})
        request.patient = patient
        return view(request, *args, **kwargs)

    return wrapper
