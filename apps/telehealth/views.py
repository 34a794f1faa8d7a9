"""Telehealth pages: the patient's video visits and waiting room (/portal/telehealth/...), the
staff virtual queue and the provider's call page (/staff/telehealth/...), and the providers'
webhooks (/telehealth/webhooks/<provider>/).

Thin: a selector or a service, then render. A session that is not the patient's is the 404
page (core's access layer); staff pages need the second factor and the permission. The pages'
scripts (static/telehealth/) call the telehealth API for the waiting-room steps and open the
sockets of apps/telehealth/consumers.py. Every page that shows a session writes audit rows."""
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.audit.services import record, record_many
from apps.consents.models import US_STATES, ConsentKind
from apps.consents.services import consent_check
from apps.core import access, pages
from apps.core.decorators import staff_required
from apps.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from apps.patients.decorators import patient_required
from apps.telehealth import rules, selectors, services
from apps.telehealth.forms import RunningLateForm, SlotChoiceForm
from apps.telehealth.gates import Requirement, best_consent, consent_status
from apps.telehealth.models import VideoProvider
from apps.telehealth.providers import registry
from apps.telehealth.providers.base import WebhookRequest
from apps.telehealth.services.rooms import browser_scripts
from apps.telehealth.services.waiting_room import is_open_now, opens_at

T = "telehealth/"
MAX_WEBHOOK_BODY = 256 * 1024


def _page_config(request, session, role):
    """What the page's script needs, as JSON in the page (no PHI)."""
    api = f"/api/v1/telehealth/sessions/{session.pk}/"
    return {
        "session": str(session.pk), "role": role, "status": session.status, "api": api,
        "room_socket": f"/ws/telehealth/{session.pk}/room/", "signal_socket": f"/ws/telehealth/{session.pk}/signal/",
        "opens_at": opens_at(session).isoformat(), "download_check": reverse("telehealth_download_check"),
        "queue_url": reverse("staff_telehealth_queue") if role == services.HOST else "",
        "rebook_url": reverse("staff_telehealth_rebook", args=[session.pk]) if role == services.HOST else "",
        "vendor_scripts": browser_scripts(session),
    }


# --- portal -----------------------------------------------------------------------------------

@patient_required
@require_GET
def session_list(request):
    """The patient's video visits: the upcoming ones (with their waiting rooms) and the last few."""
    rows = list(access.scope(request.user, selectors.sessions()).order_by("-scheduled_start")[:20])
    record_many("read", rows, detail={"view": "portal_telehealth_sessions"})
    now = timezone.now()
    upcoming = sorted([s for s in rows if s.is_open], key=lambda s: s.scheduled_start)
    past = [s for s in rows if not s.is_open]
    return render(request, T + "portal_list.html", {"upcoming": upcoming, "past": past, "now": now})


def _state_for(session, entry):
    return (entry.current_state if entry and entry.current_state else (session.patient.state or "")[:2]).upper()


@patient_required
@require_GET
def waiting_room(request, session_id):
    """The waiting room and, once admitted, the call, on one page (no reload in between)."""
    session = selectors.access_session(request.user, session_id)
    record("read", session, detail={"view": "portal_telehealth_waiting_room"})
    entry = selectors.entry_of(session)
    state = _state_for(session, entry)
    consents = consent_status(session, state)
    return render(request, T + "waiting_room.html", {
        "session": session, "entry": entry, "open": is_open_now(session), "opens_at": opens_at(session),
        "consents": consents, "consents_ok": all(c["valid"] for c in consents), "state": state, "states": US_STATES,
        "config": _page_config(request, session, services.GUEST),
    })


@patient_required
@require_POST
def sign_consents(request, session_id):
    """Send the missing telehealth consents to the patient and open the first one to sign, with
    next=<this waiting room>: once signed, the patient is brought back here."""
    session = selectors.access_session(request.user, session_id, access.CHANGE)
    entry = selectors.entry_of(session)
    pages.on_error(request, lambda exc: pages.problem(request, exc, title="The consent could not be opened",
                                                      back_url=reverse("portal_telehealth_room", args=[session.pk]),
                                                      back_label="Back to the waiting room"))
    to_sign = services.telehealth_consents_to_sign(session=session, actor=request.user, state=_state_for(session, entry))
    if not to_sign:
        messages.success(request, "Your telehealth consents are all signed.")
        return redirect("portal_telehealth_room", session_id=session.pk)
    # Consents' signing page follows a safe (same-site) ?next= after the signature: the
    # patient lands back in this waiting room, which then shows the consent signed.
    back = reverse("portal_telehealth_room", args=[session.pk])
    messages.info(request, "Sign this consent; you will come back to your waiting room afterwards.")
    return redirect(reverse("portal_consent", args=[to_sign[0].pk]) + "?" + urlencode({"next": back}))


@require_GET
def download_check(request):
    """A fixed 256 KB body for the device check's download measurement (signed-in users only)."""
    if not request.user.is_authenticated:
        raise NotFound()
    response = HttpResponse(b"\0" * (256 * 1024), content_type="application/octet-stream")
    response["Cache-Control"] = "no-store"
    return response


# --- staff ------------------------------------------------------------------------------------

def _queue_page(request, *, status=200, late_form=None, late_for=None, rows_only=False):
    rows = selectors.queue()
    failed = selectors.needs_rebooking() if request.user.has_perm(rules.CHANGE_PERM) else []
    record_many("read", [row["session"] for row in rows] + failed, detail={"view": "staff_telehealth_queue"})
    return render(request, T + ("_queue_rows.html" if rows_only else "staff_queue.html"), {
        "rows": rows, "failed": failed, "alert_minutes": settings.TELEHEALTH_WAIT_ALERT_MINUTES,
        "late_form": late_form or RunningLateForm(), "late_for": late_for,
        "may_admit": request.user.has_perm(rules.ADMIT_PERM),
    }, status=status)


@staff_required(rules.VIEW_PERM)
@require_GET
def queue(request):
    """The virtual queue, live: the page refetches its rows (?rows=1) when
    /ws/staff/telehealth/queue/ says something changed."""
    return _queue_page(request, rows_only=request.GET.get("rows") == "1")


@staff_required(rules.ADMIT_PERM)
@require_POST
def admit(request, session_id):
    session = selectors.access_session(request.user, session_id, rules.ADMIT)
    pages.on_error(request, lambda exc: _queue_refused(request, exc))
    services.waiting_room_admit(session=session, actor=request.user)
    messages.success(request, f"{session.patient.display_name} is admitted.")
    if services.participant_role(session, request.user) == services.HOST:
        return redirect("staff_telehealth_call", session_id=session.pk)
    return redirect("staff_telehealth_queue")


def _queue_refused(request, exc):
    messages.error(request, f"{exc.message} ({exc.code})")
    return _queue_page(request, status=exc.status_code)


@staff_required(rules.CHANGE_PERM)
@require_POST
def running_late(request, session_id):
    session = selectors.access_session(request.user, session_id, access.CHANGE)
    form = RunningLateForm(request.POST)
    if not form.is_valid():
        return _queue_page(request, status=400, late_form=form, late_for=session.pk)
    pages.on_error(request, lambda exc: _queue_refused(request, exc))
    services.waiting_room_running_late(session=session, actor=request.user, **form.cleaned_data)
    messages.success(request, "The patient has been told.")
    return redirect("staff_telehealth_queue")


def _may_record(session):
    """Whether the provider's page offers "Record": the built-in provider serves the call (or
    will: the first configured one in the chain, before the room exists) and the patient holds
    a valid RECORDING consent (consents' check, nothing written). Starting still goes through
    services.recording_start, which verifies the consent again (audited) and answers 409."""
    code = session.video_provider or next((p.code for p in registry.chain() if p.configured()), "")
    if code != VideoProvider.BUILTIN:
        return False
    consent = best_consent(session.patient, Requirement(ConsentKind.RECORDING))
    return consent is not None and consent_check(consent).valid


def _recording_config(session):
    return {"start": f"/api/v1/telehealth/sessions/{session.pk}/recordings/", "upload": "/api/v1/telehealth/recordings/",
            "max_bytes": settings.TELEHEALTH_RECORDING_MAX_MB * 1024 * 1024}


@staff_required(rules.VIEW_PERM)
@require_GET
def call(request, session_id):
    """The provider's side of the call (only the session's own provider), with Record when
    the call may be recorded (_may_record; static/telehealth/recording.js)."""
    session = selectors.access_session(request.user, session_id)
    if services.participant_role(session, request.user) != services.HOST:
        raise PermissionDenied("Only the visit's provider can join this call.", code="not_the_provider")
    record("read", session, detail={"view": "staff_telehealth_call"})
    config = _page_config(request, session, services.HOST)
    may_record = session.is_open and _may_record(session)
    if may_record:
        config["recording"] = _recording_config(session)
    return render(request, T + "staff_call.html", {
        "session": session, "entry": selectors.entry_of(session), "config": config, "may_record": may_record,
    })


def _rebook_page(request, session, *, form=None, status=200):
    slots = selectors.rebook_slots(session)
    return render(request, T + "staff_rebook.html", {
        "session": session, "entry": selectors.entry_of(session), "slots": slots,
        "form": form or SlotChoiceForm(slots=slots), "failed": session.status == session.Status.TECHNICAL_ISSUES,
    }, status=status)


@staff_required(rules.CHANGE_PERM)
@require_http_methods(["GET", "POST"])
def rebook(request, session_id):
    """After technical issues: book the patient a new video visit; before the call: give the
    visit to another provider (one licensed where the patient is). Free video slots of
    providers who offer the visit's type (and are licensed in the patient's state) to pick from."""
    session = selectors.access_session(request.user, session_id, access.CHANGE)
    record("read", session, detail={"view": "staff_telehealth_rebook"})
    if request.method == "GET":
        return _rebook_page(request, session)
    form = SlotChoiceForm(request.POST, slots=selectors.rebook_slots(session))
    if not form.is_valid():
        return _rebook_page(request, session, form=form, status=400)
    pages.on_error(request, lambda exc: _rebook_page(request, session, form=form, status=exc.status_code), form=form)
    moved = services.session_move_to_slot(session=session, slot_id=form.cleaned_data["slot"], actor=request.user)
    messages.success(request, f"{session.patient.display_name} now has a video visit on "
                              f"{timezone.localtime(moved.scheduled_start):%a %d %b at %H:%M} with {moved.provider}.")
    return redirect("staff_telehealth_queue")


# --- webhooks ---------------------------------------------------------------------------------

def _public_url(request):
    base = settings.MESSAGING_PUBLIC_BASE_URL.rstrip("/")
    return base + request.get_full_path() if base else request.build_absolute_uri()


@csrf_exempt
@require_POST
def webhook(request, provider):
    """A provider's callback: verified (403 otherwise, a replay too), handled once."""
    if provider not in registry.PROVIDERS or provider == "builtin":
        raise NotFound()
    if len(request.body) > MAX_WEBHOOK_BODY:
        raise ValidationFailed({"body": ["Too large."]})
    incoming = WebhookRequest(
        url=_public_url(request), headers={k.lower(): v for k, v in request.headers.items()}, body=request.body,
        params={k: request.POST.get(k) for k in request.POST} if request.content_type != "application/json" else {},
    )
    call_ = services.webhook_receive(provider_name=provider, request=incoming)
    if call_.answer is not None:
        return JsonResponse(call_.answer)
    return HttpResponse(status=204)
