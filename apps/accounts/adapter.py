from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.db import transaction
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        return reverse("home")

    def confirm_email(self, request, email_address):
        """Verifying the email is what lets a registrant's patient record be created or linked."""
        from apps.patients.services import registration_complete

        with transaction.atomic():
            confirmed = super().confirm_email(request, email_address)
            if confirmed:
                registration_complete(user=email_address.user)
        return confirmed


class MFAAdapter(DefaultMFAAdapter):
    """allauth's MFA is the patients' optional second factor. Staff use django-otp (enforced by
    StaffMFARequiredMiddleware), so allauth never asks them a second time."""

    def is_mfa_enabled(self, user, types=None):
        if user.is_staff:
            return False
        return super().is_mfa_enabled(user, types)
