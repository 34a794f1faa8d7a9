"""Recordings of video visits: started by the visit's provider during the call, only with the
patient's valid RECORDING consent and a provider that can record; stored (the built-in
provider's upload) in the private storage; deleted by the retention job through the provider
interface once TELEHEALTH_RECORDING_RETENTION_DAYS have passed.

Every move goes through core's transition() with a RecordingEvent row and its audit entry;
reads of a recording (list, download) are audited by the API that serves them."""
import datetime
import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import record
from apps.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from apps.core.transitions import lock, record_event, transition
from apps.telehealth.exceptions import RecordingUnsupported, SessionClosed
from apps.telehealth.gates import recording_consent_gate
from apps.telehealth.models import Recording, TelehealthSession
from apps.telehealth.providers import registry
from apps.telehealth.providers.base import ProviderError
from apps.telehealth.services.rooms import room_of
from apps.telehealth.services.sessions import HOST, participant_role

logger = logging.getLogger(__name__)
S = TelehealthSession.Status
R = Recording.Status
SYSTEM = "system"

# What MediaRecorder writes: WebM (Chrome, Firefox; starts with the EBML magic) or MP4 (Safari;
# "ftyp" at byte 4). The upload is checked by its bytes, not by the type the browser claims.
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"


def _media_type(head):
    if head.startswith(WEBM_MAGIC):
        return "video/webm", "webm"
    if head[4:8] == b"ftyp":
        return "video/mp4", "mp4"
    return None, None


def _the_provider(session, actor):
    if participant_role(session, actor) != HOST:
        raise PermissionDenied("Only the visit's provider can record the call.", code="not_the_provider")


def recording_start(*, session, actor, now=None):
    """Start recording the call. Requires: the actor is the session's provider, the call is IN
    PROGRESS, the serving video provider can record (409 recording_unsupported), and the
    patient holds a valid RECORDING consent (verified and audited by consents; 409
    telehealth_consent_required). Idempotent while one is running: the running one is
    returned. Creates a RECORDING row (delete_after = now + the retention period); with
    Twilio, the room's recording rules are switched on first (the provider interface)."""
    now = now or timezone.now()
    _the_provider(session, actor)
    if session.status != S.IN_PROGRESS:
        raise SessionClosed("A call can be recorded only while it is in progress.", code="call_not_in_progress")
    running = session.recordings.filter(status=R.RECORDING).first()
    if running is not None:
        return running
    provider = registry.for_code(session.video_provider)
    if not provider.capabilities.recording:
        raise RecordingUnsupported(extra={"provider": session.video_provider})
    consent_id = recording_consent_gate(session, now=now)
    try:
        vendor_sid = provider.start_recording(room=room_of(session))
    except ProviderError as exc:
        raise RecordingUnsupported(f"The video provider could not start recording: {exc}",
                                   code="recording_failed") from None
    try:
        with transaction.atomic():
            session = lock(TelehealthSession, session.pk)
            if session.status != S.IN_PROGRESS:
                raise SessionClosed("A call can be recorded only while it is in progress.", code="call_not_in_progress")
            recording = Recording.objects.create(
                session=session, patient_id=session.patient_id, video_provider=session.video_provider,
                vendor_sid=vendor_sid or "", consent_id=consent_id, started_at=now, started_by=actor,
                delete_after=now + datetime.timedelta(days=settings.TELEHEALTH_RECORDING_RETENTION_DAYS),
            )
            record_event(recording, actor=actor, reason="Recording started", from_status="",
                         data={"provider": session.video_provider, "consent_id": str(consent_id)})
            if not session.recording_planned:
                session.recording_planned = True
                session.save(update_fields=["recording_planned", "updated_at"])
            # A vendor's recording is kept at the vendor from the start: nothing will be uploaded.
            if vendor_sid:
                transition(recording, R.AVAILABLE, actor=actor, reason="Recorded at the video provider",
                           fields={"stored_at": now})
            return recording
    except IntegrityError:
        # A second click at the same moment: the other request's recording is the running one.
        return session.recordings.get(status=R.RECORDING)


def recording_store(*, recording, actor, upload, now=None):
    """The built-in provider's recording, uploaded by the provider's browser when the call
    ends: RECORDING -> AVAILABLE with the file in the private storage, its size and SHA-256.
    Requires the session's provider; 409 when it is not recording (stored already, or
    deleted); 400 for an empty, oversized or non-WebM/MP4 file, and nothing is written."""
    session = TelehealthSession.objects.select_related("provider").get(pk=recording.session_id)
    _the_provider(session, actor)
    limit = settings.TELEHEALTH_RECORDING_MAX_MB * 1024 * 1024
    if upload is None or not upload.size:
        raise ValidationFailed({"file": ["Send the recording."]})
    if upload.size > limit:
        raise ValidationFailed({"file": [f"At most {settings.TELEHEALTH_RECORDING_MAX_MB} MB."]})
    digest, body = hashlib.sha256(), []
    for chunk in upload.chunks():
        digest.update(chunk)
        body.append(chunk)
    content = b"".join(body)
    content_type, extension = _media_type(content[:16])
    if content_type is None:
        raise ValidationFailed({"file": ["A WebM or MP4 recording."]})
    now = now or timezone.now()
    with transaction.atomic():
        recording = lock(Recording, recording.pk)
        if recording.status != R.RECORDING:
            raise Conflict("This recording is not waiting for its file.", code="recording_not_recording")
        stored = recording.file.storage.save(f"{recording.session_id}/{recording.pk}.{extension}", ContentFile(content))
        # The file is written before the row: if the row cannot be moved, the file is removed
        # again, so nothing half-written stays in the private storage.
        try:
            transition(recording, R.AVAILABLE, actor=actor, reason="Recording uploaded", fields={
                "file": stored, "content_type": content_type, "size_bytes": upload.size,
                "sha256": digest.hexdigest(), "stored_at": now,
            })
        except Exception:
            recording.file.storage.delete(stored)
            raise
    return recording


def _delete_one(pk, now):
    with transaction.atomic():
        recording = lock(Recording, pk)
        if recording.status == R.DELETED or recording.delete_after > now:
            return False
        session = TelehealthSession.objects.get(pk=recording.session_id)
        try:
            registry.for_code(recording.video_provider).delete_recording(
                room_sid=session.room_sid, vendor_sid=recording.vendor_sid, file=recording.file)
        except ProviderError as exc:
            # Kept as it is, for the next run: a recording is DELETED only once it is gone.
            logger.warning("recording %s could not be deleted at %s: %s", pk, recording.video_provider, type(exc).__name__)
            return False
        transition(recording, R.DELETED, actor_label=SYSTEM, reason="Retention period over", locked=True,
                   fields={"file": "", "deleted_at": now})
        record("delete", recording, detail={"reason": "retention", "retention_days": settings.TELEHEALTH_RECORDING_RETENTION_DAYS,
                                            "provider": recording.video_provider})
        return True


def recordings_delete_expired(*, now=None):
    """The retention job: every recording past its delete_after is deleted where it is kept
    (the private storage, or the vendor, through the provider interface), moved to DELETED and
    audited. Each row under its own lock, re-read: a second run, or a second worker, finds
    nothing to do. Returns how many were deleted."""
    now = now or timezone.now()
    ids = list(Recording.objects.filter(status__in=Recording.KEPT_STATUSES, delete_after__lte=now)
               .values_list("pk", flat=True))
    return sum(1 for pk in ids if _delete_one(pk, now))
