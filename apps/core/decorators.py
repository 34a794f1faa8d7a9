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
