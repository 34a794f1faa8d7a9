from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.core import access
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
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("notification_list")


@login_required
@require_POST
def notification_mark_all_read(request):
    services.notification_mark_all_read(user=request.user)
    return redirect("notification_list")
