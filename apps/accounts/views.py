"""Staff second factor: enrol a TOTP device (QR code), verify it each session, backup codes."""
import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token

from apps.accounts import services
from apps.accounts.forms import TokenForm
from apps.accounts.selectors import user_has_confirmed_totp
from apps.core import pages
from apps.audit.services import record_auth_event


def _next_url(request, default="/staff/"):
    return pages.safe_next(request, default)


def _staff_only(request):
    if not request.user.is_staff:
        return redirect("home")
    return None


@login_required
def mfa_start(request):
    """Where the middleware sends staff: enrol when there is no device yet, else verify."""
    if (response := _staff_only(request)) is not None:
        return response
    if request.user.is_verified():
        return redirect(_next_url(request))
    target = "staff_mfa_verify" if user_has_confirmed_totp(request.user) else "staff_mfa_setup"
    response = redirect(target)
    if request.GET.get("next"):
        response["Location"] += "?next=" + request.GET["next"]
    return response


def _qr_svg(uri):
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    if (response := _staff_only(request)) is not None:
        return response
    if user_has_confirmed_totp(request.user):
        return redirect("staff_mfa_verify")
    device = services.totp_device_for_enrolment(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.totp_device_confirm(device=device, token=form.cleaned_data["token"])
        if codes is not None:
            otp_login(request, device)
            record_auth_event(request, action="update", user=request.user, detail={"mfa": "totp_enrolled"})
            return render(request, "accounts/backup_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("token", "That code is not right. Check the time on your phone and try the newest code.")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "accounts/mfa_setup.html",
        {"form": form, "qr_svg": _qr_svg(device.config_url), "secret": secret, "next": _next_url(request)},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    if (response := _staff_only(request)) is not None:
        return response
    if not user_has_confirmed_totp(request.user):
        return redirect("staff_mfa_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            record_auth_event(request, action="login", user=request.user, detail={"mfa": device.__class__.__name__})
            return redirect(_next_url(request))
        record_auth_event(request, action="login_failed", user=request.user, detail={"mfa": "bad_token"})
        form.add_error("token", "That code is not right, or it was already used.")
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next_url(request)}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def backup_codes(request):
    """Replace the backup codes (the old ones stop working)."""
    if (response := _staff_only(request)) is not None:
        return response
    if not request.user.is_verified():
        # This page is exempt from StaffMFARequiredMiddleware (it is under /staff/mfa/), yet
        # fresh codes would let a password alone pass the second factor.
        return redirect(f"/staff/mfa/?next={request.path}")
    if request.method == "POST":
        codes = services.backup_codes_regenerate(user=request.user)
        messages.success(request, "New backup codes created. The old ones no longer work.")
        return render(request, "accounts/backup_codes.html", {"codes": codes, "next": "/staff/"})
    return render(request, "accounts/backup_codes_confirm.html")
