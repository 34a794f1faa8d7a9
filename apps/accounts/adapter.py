from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from apps.core.hooks import Hook

# A portal user verified their email address (inside the confirmation's transaction):
# receiver(*, user). The patients app connects the step that creates or links the patient.
email_confirmed = Hook("email_confirmed", "(*, user) -> None, inside the confirmation's transaction")


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        return reverse("home")

    def pre_authenticate(self, request, **credentials):
        """An account that axes has locked (AXES_FAILURE_LIMIT failures) gets axes's lockout
        page (429) for the whole cool-off. Without this, allauth's own per-login limit
        (ACCOUNT_RATE_LIMITS, checked first) would answer the next attempts with a generic form
        error instead. The attempt goes on to the axes backend, which refuses it."""
        if settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(request, credentials):
            return
        super().pre_authenticate(request, **credentials)

    def confirm_email(self, request, email_address):
        """Verifying the email is what lets a registrant's patient record be created or linked."""
        with transaction.atomic():
            confirmed = super().confirm_email(request, email_address)
            if confirmed:
                email_confirmed.all(user=email_address.user)
        return confirmed


class MFAAdapter(DefaultMFAAdapter):
    """allauth's MFA is the patients' optional second factor. Staff use django-otp (enforced by
    StaffMFARequiredMiddleware), so allauth never asks them a second time."""

    def is_mfa_enabled(self, user, types=None):
        if user.is_staff:
            return False
        return super().is_mfa_enabled(user, types)
