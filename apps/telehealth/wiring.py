"""How telehealth follows scheduling's visits, through core's transition listeners (the
extension point every state change already calls, inside its transaction): a VIRTUAL visit's
creation makes its session, its cancellation cancels it, a reschedule moves it. Connected in
TelehealthConfig.ready(); scheduling knows nothing of telehealth."""
from apps.core.transitions import on_transition
from apps.scheduling.models import Visit
from apps.telehealth import services


def on_visit_change(change):
    visit = change.obj
    if change.kind == "event" and change.before == "" and change.after == Visit.Status.PLANNED:
        services.session_for_new_visit(visit=visit)
    elif change.kind == "transition" and change.after == Visit.Status.CANCELLED:
        services.session_cancel_with_visit(visit=visit, actor=change.actor if getattr(change.actor, "pk", None) else None)
    elif change.kind == "event" and visit.status == Visit.Status.PLANNED and visit.mode == "VIRTUAL":
        services.session_follow_visit(visit=visit)


def connect():
    on_transition(on_visit_change, model=Visit)
