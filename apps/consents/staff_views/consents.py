"""Staff pages of consents: the list, sending one to a patient, a consent's page (its status,
verification now, an uploaded copy of its PDF checked against the one we issued, revoking on
the patient's behalf), the signed PDF's download, and the check of any uploaded PDF. Every
verification and every check of an upload is audited (the services write the entries)."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.audit.services import record, record_many
from apps.consents import rules, selectors, services
from apps.consents.models import ConsentForm
from apps.consents.pdf_response import pdf_response
from apps.consents.staff_forms import ConsentFilterForm, ConsentSendForm, PdfUploadForm, ReasonForm
from apps.consents.staff_views._common import T, filter_problem, on_refusal, paginate, posted
from apps.core import access
from apps.core.decorators import staff_required
from apps.core.lookups import get_or_not_found
from apps.patients.selectors import access_patient_for_staff

C = ConsentForm.Status


@staff_required("consents.view_consentform")
@require_GET
def consent_list(request):
    form = ConsentFilterForm(request.GET or None)
    problem = filter_problem(form)
    data = form.cleaned_data if form.is_bound and not problem else {}
    page, rows = paginate(request, selectors.consent_list(status=data.get("status") or None))
    record_many("read", rows, detail={"view": "staff_consent_list"})
    return render(request, T + "consent_list.html", {"form": form, "page": page, "rows": rows, "problem": problem},
                  status=400 if problem else 200)


def _send_page(request, patient, form, *, status=200):
    return render(request, T + "consent_send.html", {"patient": patient, "form": form}, status=status)


@staff_required("consents.send_consentform")
@require_http_methods(["GET", "POST"])
def consent_send(request, patient_id):
    """Send a consent to the patient: a published template, and for a procedure consent the
    approved plan (the service refuses anything out of order with its code)."""
    patient = access_patient_for_staff(request.user, patient_id)
    access.scope(request.user, ConsentForm.objects.none(), rules.SEND)
    plans = list(selectors.plan_list(patient=patient).exclude(status__in=["CANCELLED", "COMPLETED"]))
    record("read", patient, detail={"view": "staff_consent_send"})
    initial = {"plan": request.GET.get("plan", "")} if request.method == "GET" else None
    form = ConsentSendForm(request.POST or None, plans=plans, initial=initial)
    if request.method == "GET":
        return _send_page(request, patient, form)
    if not form.is_valid():
        return _send_page(request, patient, form, status=400)
    on_refusal(request, lambda bound=None, status=400, error=None: _send_page(request, patient, form, status=status),
               form=form, name="send")
    template = get_or_not_found(selectors.published_templates(), pk=form.cleaned_data["template"])
    plan = None
    if form.cleaned_data["plan"]:
        plan = selectors.access_plan(request.user, form.cleaned_data["plan"])
    consent = services.consent_create(patient=patient, template=template, plan=plan, actor=request.user)
    messages.success(request, "Sent: the patient is told by text and email to sign it in their portal.")
    return redirect("staff_surgery_consent", consent_id=consent.pk)


def _consent_page(request, consent, *, bound=None, error=None, verification=None, upload=None, status=200):
    record("read", consent, detail={"view": "staff_consent"})
    forms = {"upload": PdfUploadForm()}
    if consent.status == C.SIGNED and request.user.has_perm("consents.revoke_consentform"):
        forms["revoke"] = ReasonForm(prefix="revoke")
    forms.update(bound or {})
    return render(request, T + "consent_detail.html", {
        "consent": consent, "events": list(selectors.consent_events(consent)), "forms": forms, "error": error,
        "verification": verification, "upload": upload, "expired": consent.is_expired(),
        "can_verify": request.user.has_perm("consents.verify_consentform"),
    }, status=status)


@staff_required("consents.view_consentform")
@require_GET
def consent_detail(request, consent_id):
    return _consent_page(request, selectors.access_consent(request.user, consent_id))


@staff_required("consents.verify_consentform")
@require_POST
def consent_verify(request, consent_id):
    """Verify the consent now (signed, in force, intact), and with a file, whether it is the PDF
    we issued for it. The verdict is the page's answer (200 either way: a failed check is a
    result, not an error), and both checks are audited."""
    consent = selectors.access_consent(request.user, consent_id, rules.VERIFY)
    form = PdfUploadForm(request.POST, request.FILES)
    if request.FILES and not form.is_valid():
        return _consent_page(request, consent, bound={"upload": form}, status=400)
    on_refusal(request, lambda **kw: _consent_page(request, consent, **kw), form=form, name="upload")
    verification = services.consent_verify(consent=consent, purpose="staff_verify", raise_error=False)
    upload = None
    if request.FILES:
        upload = services.consent_pdf_check_upload(upload=form.cleaned_data["pdf"], consent=consent)
    return _consent_page(request, selectors.access_consent(request.user, consent_id), verification=verification,
                         upload=upload)


@staff_required("consents.revoke_consentform")
@require_POST
def consent_revoke(request, consent_id):
    consent = selectors.access_consent(request.user, consent_id, rules.REVOKE)
    form = ReasonForm(request.POST, prefix="revoke")
    if (answer := posted(request, form, name="revoke", draw=lambda **kw: _consent_page(request, consent, **kw))):
        return answer
    services.consent_revoke(consent=consent, actor=request.user, reason=form.cleaned_data["reason"])
    messages.info(request, "Consent revoked. The surgeon and the nurses are told; nothing may rely on it now.")
    return redirect("staff_surgery_consent", consent_id=consent.pk)


@staff_required("consents.view_consentform")
@require_GET
def consent_pdf(request, consent_id):
    consent = selectors.access_consent(request.user, consent_id)
    return pdf_response(request, consent, view="staff_consent_pdf")


def _check_page(request, form, *, result=None, status=200):
    return render(request, T + "pdf_check.html", {"form": form, "result": result}, status=status)


@staff_required("consents.verify_consentform")
@require_http_methods(["GET", "POST"])
def pdf_check(request):
    """Upload any consent PDF: is it one we issued (and which consent), and does that consent
    still verify? A file that is not byte for byte ours is reported as altered or foreign."""
    access.scope(request.user, ConsentForm.objects.none(), rules.VERIFY)
    form = PdfUploadForm(request.POST or None, request.FILES or None)
    if request.method == "GET":
        return _check_page(request, PdfUploadForm())
    if not form.is_valid():
        return _check_page(request, form, status=400)
    on_refusal(request, lambda bound=None, status=400, error=None: _check_page(request, form, status=status),
               form=form, name="upload")
    result = services.consent_pdf_check_upload(upload=form.cleaned_data["pdf"], purpose="staff_pdf_check")
    return _check_page(request, PdfUploadForm(), result=result)
