from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.urls import reverse

from apps.core.hooks import Hook
from apps.core.phone import normalize_phone

# A portal user verified their email address (inside the confirmation's transaction):
# receiver(*, user). The patients app connects the step that creates or links the patient.
email_confirmed = Hook("email_confirmed", "(*, user) -> None, inside the confirmation's transaction")
# A one-time code must be texted (sign-in by SMS code, or verifying a new sign-in number):
# receiver(*, user, phone, code). The messaging app connects its outbox (apps/messaging/codes.py).
sign_in_code_sms = Hook("sign_in_code_sms", "(*, user, phone, code) -> None: text the code to phone now")


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

    # --- phone numbers (sign-in by SMS code) ---------------------------------------------
    # The number lives on the user (User.phone, User.phone_verified). Codes are texted only to
    # a verified number: an unverified or unknown one is treated like an unknown account, and
    # with ACCOUNT_PREVENT_ENUMERATION nothing says which.

    def clean_phone(self, phone):
        try:
            return normalize_phone(phone)
        except ValidationError as error:
            raise forms.ValidationError(error.messages[0], code="invalid_phone")

    def set_phone(self, user, phone, verified):
        user.phone = phone or None
        user.phone_verified = bool(phone) and verified
        user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user):
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone_verified(self, user, phone):
        if user.phone == phone and not user.phone_verified:
            user.phone_verified = True
            user.save(update_fields=["phone_verified"])

    def get_user_by_phone(self, phone):
        return get_user_model().objects.filter(phone=phone, phone_verified=True, is_active=True).first()

    def send_verification_code_sms(self, user, phone, code, **kwargs):
        if not sign_in_code_sms:
            raise ImproperlyConfigured("No SMS sender is connected for sign-in codes (the messaging app connects one).")
        sign_in_code_sms.all(user=user, phone=phone, code=code)

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
