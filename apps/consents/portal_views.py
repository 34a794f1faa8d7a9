"""The patient portal's consent, plan and timeline pages (/portal/consents/, /portal/plans/,
/portal/timeline/): parse input, call a selector or a service, render. A consent or plan that is
not the patient's is the 404 page (core's access layer). Each view says how it answers a
refusal (core.pages.on_error) before it calls the service; no view catches a domain error.
Every page that shows consent or plan data writes audit rows."""
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.audit import context as audit_context
from apps.audit.services import record, record_many
from apps.consents import selectors, services, stepup
from apps.consents.content import wrong_answers
from apps.consents.forms import OptionalReasonForm, ReasonForm, SigningForm
from apps.consents.models import ConsentForm
from apps.consents.pdf_response import pdf_response
from apps.consents.signature import decode_data_url
from apps.consents.workflow import workflow_for_patient
from apps.core import access, pages
from apps.core.exceptions import ValidationFailed
from apps.patients.decorators import patient_required

T = "consents/portal/"
MAX_PROGRESS_BODY = 64 * 1024


def _return_url(request):
    """Where the patient goes back to once the consent is signed or declined (telehealth's
    waiting room sends `?next=`): a URL of this site only (same host, or a path); anything
    else (another host, a scheme, NUL, an oversized value) is ignored, never followed."""
    return pages.safe_next(request)


def _with_next(url, next_url):
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _consent(request, consent_id, action=access.VIEW):
    return selectors.access_consent_for_patient(request.user, consent_id, action=action)


# --- consents ------------------------------------------------------------------------------------

@patient_required
def consent_list(request):
    to_sign, signed, others = selectors.portal_consent_groups(request.patient)
    record_many("read", [*to_sign, *signed, *others], detail={"view": "portal_consents"})
    return render(request, T + "consent_list.html", {"to_sign": to_sign, "signed": signed, "others": others})


def _progress(consent, form=None):
    template = consent.template
    if form is not None and form.is_bound and hasattr(form, "cleaned_data"):
        acknowledged, answers = form.acknowledged(), form.answers()
    else:
        acknowledged, answers = consent.acknowledged, consent.answers
    total = len(template.clause_keys()) + len(template.checks)
    done = len(set(acknowledged) & set(template.clause_keys())) + len([k for k in template.check_keys() if k in answers])
    return {"done": done, "total": total, "percent": int(100 * done / total) if total else 100}


def _sign_page(request, consent, form, *, status=200, wrong=None, decline_form=None):
    return render(request, T + "consent_sign.html", {
        "decline_form": decline_form,
        "consent": consent, "template": consent.template, "form": form, "progress": _progress(consent, form),
        "wrong": {w["key"]: w["explanation"] for w in (wrong or [])},
        "uses_authenticator": stepup.uses_authenticator(request.user),
        "stepped_up": stepup.is_fresh(stepup.stepped_up_at(request)),
        "next_url": _return_url(request),
    }, status=status)


@patient_required
@require_http_methods(["GET", "POST"])
def consent_detail(request, consent_id):
    """A consent to sign (its sections, checks, signature pad, save and resume), or a signed,
    declined, revoked or expired one (what and when, the document's SHA-256)."""
    consent = _consent(request, consent_id)
    record("read", consent, detail={"view": "portal_consent"})
    if consent.status != ConsentForm.Status.PENDING:
        return render(request, T + "consent_done.html", {"consent": consent, "expired": consent.is_expired(),
                                                          "revoke_form": ReasonForm(), "next_url": _return_url(request)})
    if request.method == "GET":
        form = SigningForm(consent.template, acknowledged=consent.acknowledged, answers=consent.answers,
                           initial={"typed_name": ""})
        wrong = [w for w in wrong_answers(consent.template, consent.answers) if w["key"] in consent.answers]
        return _sign_page(request, consent, form, wrong=wrong)

    consent = _consent(request, consent_id, access.CHANGE)
    form = SigningForm(consent.template, request.POST)
    if not form.is_valid():
        return _sign_page(request, consent, form, status=400)

    def refused(exc):
        consent.refresh_from_db()
        checks = exc.extra.get("checks") if exc.code == "understanding_check_failed" else None
        return _sign_page(request, consent, form, status=exc.status_code,
                          wrong=checks or [w for w in wrong_answers(consent.template, form.answers()) if w["key"] in form.answers()])

    pages.on_error(request, refused, form=form)
    # Progress first, in its own transaction: kept even when the signature below is refused.
    consent, wrong = services.consent_save_progress(consent=consent, actor=request.user, acknowledged=form.acknowledged(),
                                                    answers=form.answers())
    if form.cleaned_data["action"] == "save":
        messages.success(request, "Saved. You can finish later, on this device or another.")
        return redirect(_with_next(reverse("portal_consent", args=[consent.pk]), _return_url(request)))
    data = form.cleaned_data
    if data["secret"]:
        stepup.step_up(request, data["secret"])
    drawn = None
    if data["signature_mode"] != "type" and data["signature_data"]:
        drawn = decode_data_url(data["signature_data"])
    ctx = audit_context.current()
    services.consent_sign(
        consent=consent, actor=request.user, acknowledged=form.acknowledged(), answers=form.answers(),
        typed_name=data["typed_name"], signature_png=drawn,
        typed_signature=data["typed_signature"] if data["signature_mode"] == "type" else "",
        stepped_up_at=stepup.stepped_up_at(request), ip=getattr(ctx, "ip", None) or request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    messages.success(request, "Thank you. Your consent is signed.")
    return redirect(_return_url(request) or reverse("portal_consent", args=[consent.pk]))


@patient_required
@require_POST
def consent_progress(request, consent_id):
    """Autosave from the signing page's script: {"acknowledged": [...], "answers": {...}} as JSON.
    Answers 200 with the progress and the explanations of wrong answers, 400 for bad input, 409
    when the consent is no longer pending (the API's error format)."""
    consent = _consent(request, consent_id, access.CHANGE)
    pages.on_error(request, lambda exc: JsonResponse({"code": exc.code, "message": exc.message, "extra": exc.extra},
                                                     status=exc.status_code))
    if len(request.body) > MAX_PROGRESS_BODY:
        raise ValidationFailed({"body": ["Too large."]})
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        raise ValidationFailed({"body": ["Send JSON."]})
    if not isinstance(body, dict) or not isinstance(body.get("acknowledged", []), list) \
            or not isinstance(body.get("answers", {}), dict):
        raise ValidationFailed({"body": ["Send {\"acknowledged\": [...], \"answers\": {...}}."]})
    consent, wrong = services.consent_save_progress(consent=consent, actor=request.user,
                                                    acknowledged=[str(k) for k in body.get("acknowledged", [])],
                                                    answers={str(k): str(v) for k, v in body.get("answers", {}).items()})
    return JsonResponse({"saved_at": consent.progress_saved_at.isoformat(), "progress": _progress(consent),
                         "wrong": {w["key"]: w["explanation"] for w in wrong}})


@patient_required
@require_POST
def consent_decline(request, consent_id):
    consent = _consent(request, consent_id, access.CHANGE)
    form = OptionalReasonForm(request.POST)
    if not form.is_valid():
        return _sign_page(request, consent, SigningForm(consent.template), status=400, decline_form=form)
    services.consent_decline(consent=consent, actor=request.user, reason=form.cleaned_data["reason"])
    messages.info(request, "You declined this consent. The clinic has been told and will contact you.")
    return redirect(_return_url(request) or reverse("portal_consents"))


@patient_required
@require_POST
def consent_revoke(request, consent_id):
    consent = _consent(request, consent_id, access.CHANGE)
    form = ReasonForm(request.POST)

    def done(status):
        return render(request, T + "consent_done.html", {"consent": consent, "expired": consent.is_expired(),
                                                          "revoke_form": form}, status=status)

    if not form.is_valid():
        return done(400)
    pages.on_error(request, lambda exc: done(exc.status_code), form=form)
    services.consent_revoke(consent=consent, actor=request.user, reason=form.cleaned_data["reason"])
    messages.info(request, "Your consent is revoked. The clinic has been told.")
    return redirect("portal_consent", consent_id=consent.pk)


@patient_required
@require_GET
def consent_pdf(request, consent_id):
    """My signed consent as a PDF (404 for anyone else's; 409 before it is signed)."""
    return pdf_response(request, _consent(request, consent_id), view="portal_consent_pdf")


# --- plans and timeline ----------------------------------------------------------------------------

@patient_required
def plan_list(request):
    plans = list(selectors.plans_for_patient(request.patient))
    record_many("read", plans, detail={"view": "portal_plans"})
    return render(request, T + "plan_list.html", {"plans": plans})


@patient_required
def plan_detail(request, plan_id):
    plan = selectors.access_plan_for_patient(request.user, plan_id)
    record("read", plan, detail={"view": "portal_plan"})
    return render(request, T + "plan_detail.html", {"plan": plan, "lines": list(plan.lines.all()),
                                                    "preop_items": list(plan.preop_items.all())})


@patient_required
def timeline(request):
    workflow = workflow_for_patient(request.patient)
    record("read", request.patient, detail={"view": "portal_timeline"})
    return render(request, T + "timeline.html", {"workflow": workflow, "current": workflow.current})
