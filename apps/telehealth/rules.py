"""Who may see and change telehealth sessions (core's access layer, apps/core/access.py).

Patients see and act on their own sessions (enter the waiting room, answer, check devices,
hang up); anyone else's answers 404. Staff act by permission after their second factor
(apps/telehealth/roles.py): view, change (running late, end, technical issues), admit.
Integrators' API keys by scope (telehealth:read / telehealth:write); an API key never admits a
patient or joins a call."""
from apps.core import access
from apps.telehealth.models import Recording, TelehealthSession

READ = "telehealth:read"
WRITE = "telehealth:write"
ADMIT = "admit"

VIEW_PERM = "telehealth.view_telehealthsession"
CHANGE_PERM = "telehealth.change_telehealthsession"
ADMIT_PERM = "telehealth.admit_patient"
# Recordings: the list (who recorded what, when it will be deleted) and the media itself.
MEDIA = "media"
RECORDING_VIEW_PERM = "telehealth.view_recording"
RECORDING_MEDIA_PERM = "telehealth.view_recording_media"


def register():
    access.register(
        TelehealthSession,
        own=lambda queryset, patient: queryset.filter(patient=patient),
        perms={access.VIEW: VIEW_PERM, access.CHANGE: CHANGE_PERM, ADMIT: ADMIT_PERM},
        scopes={access.VIEW: READ, access.CHANGE: WRITE},
        patient_actions=(access.VIEW, access.CHANGE),
    )
    # Recordings are clinical staff's only: a patient gets 404 for every one (they are kept
    # for the care team, and deleted after the retention period); an API key may list them
    # (telehealth:read) but never fetch the media.
    access.register(
        Recording,
        own=lambda queryset, patient: queryset.filter(patient=patient),
        perms={access.VIEW: RECORDING_VIEW_PERM, MEDIA: RECORDING_MEDIA_PERM},
        scopes={access.VIEW: READ},
        patient_actions=(),
    )
