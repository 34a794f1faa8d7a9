from django.core.paginator import Paginator
from django.shortcuts import render

from apps.core.decorators import staff_required
from apps.messaging import selectors
from apps.messaging.models import OutboundMessage


@staff_required()
def staff_outbox(request):
    """Recent outbound messages with their status and last error (failures first when asked),
    and the local SMS outbox. Addresses are masked; bodies are PHI-free by construction. A
    fixed number of queries whatever the page size."""
    status = request.GET.get("status", "")
    if status not in OutboundMessage.Status.values:
        status = ""
    page = Paginator(selectors.outbox_messages(status=status or None), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": OutboundMessage.Status.choices,
        "counts": selectors.outbox_status_counts(),
        "local_sms": list(selectors.local_sms_outbox()),
    }
    return render(request, "messaging/staff_outbox.html", context)
