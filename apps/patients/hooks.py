"""The patients app's extension points for the floors above it (connected in their
AppConfig.ready(); apps/core/hooks.py). Patients never imports them."""
from apps.core.hooks import Hook

# Sections that apps above add to the staff patient page (/staff/patients/<id>/), e.g. the
# consents app's workflow timeline. receiver(*, request, patient) -> {"template": name,
# "context": dict} or None (None: nothing to show, e.g. the user lacks the permission). The
# receiver audits what it reads; the section template is included with its context.
staff_patient_sections = Hook("staff_patient_sections", "(*, request, patient) -> {template, context} or None")
