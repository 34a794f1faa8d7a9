from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


def staff_required(perm=None):
    """A staff page: signed in, staff, second factor verified (StaffMFARequiredMiddleware), and
    holding `perm` when given. Patients are sent to their portal; staff without the
    permission get a 403 page."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_clinic_staff:
                return redirect("portal_home")
            if not user.is_verified():
                return redirect("staff_mfa")
            if perm and not user.has_perm(perm):
                return render(request, "403.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def patient_required(view):
    """A portal page: signed in as a patient whose record exists. Staff go to the staff pages;
    a registrant whose record is not ready yet sees the pending page and no PHI."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        from apps.core.exceptions import NotFound
        from apps.patients.selectors import access_patient_for_user, registration_for_user

        if request.user.is_staff:
            return redirect("staff_home")
        try:
            request.patient = access_patient_for_user(request.user)
        except NotFound:
            registration = registration_for_user(request.user)
            return render(request, "patients/portal_pending.html", {"registration": registration})
        return view(request, *args, **kwargs)

    return wrapper
