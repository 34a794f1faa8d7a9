from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core import access, pages
from apps.core.timezones import zone_for
from apps.messaging import selectors, services


@login_required
def notification_list(request):
    page = Paginator(selectors.notifications_for(request.user), 25).get_page(request.GET.get("page"))
    # A patient reads the times on their own clock, staff (no patient record) on the clinic's.
    # An empty page shows no time, so asks for no patient record.
    person = access.patient_of(request.user) if page.object_list else None
    with timezone.override(zone_for(person)):
        return render(request, "messaging/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_open(request, notification_id):
    # Not theirs, missing or malformed: NotFound, which answers the 404 page (apps/core/pages.py).
    notification = selectors.access_notification(request.user, notification_id)
    services.notification_mark_read(user=request.user, notification=notification)
    link = pages.safe_next(request, target=notification.link)
    if link:
        return redirect(link)
    return redirect("notification_list")


@login_required
@require_POST
def notification_mark_all_read(request):
    services.notification_mark_all_read(user=request.user)
    return redirect("notification_list")
