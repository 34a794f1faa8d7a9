from django.shortcuts import render
from django.utils import timezone

from apps.core.decorators import staff_required
from apps.core.hooks import Hook
from apps.core.models import Heartbeat

# Apps add their figures to the staff dashboard: receiver(*, request) -> dict for the template
# (connected in the app's AppConfig.ready(); apps/patients/apps.py adds the patient counts).
staff_home_context = Hook("staff_home_context", "(*, request) -> dict of template context")


@staff_required()
def staff_home(request):
    heartbeat = Heartbeat.objects.filter(name="worker").first()
    hour = timezone.localtime().hour
    context = {
        "greeting": "Good morning" if hour < 12 else "Good afternoon" if hour < 18 else "Good evening",
        "heartbeat": heartbeat,
        "jobs_ok": heartbeat is not None and (timezone.now() - heartbeat.at).total_seconds() < 180,
    }
    for extra in staff_home_context.all(request=request):
        context.update(extra)
    return render(request, "core/staff_home.html", context)
