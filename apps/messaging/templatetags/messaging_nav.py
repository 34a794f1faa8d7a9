"""The header's Messages item with its unread-thread badge, portal and staff: one query per
page, none for whoever may not see threads (see threads.selectors.nav_unread_thread_count)."""
from django import template

from apps.messaging.threads.selectors import nav_unread_thread_count

register = template.Library()


@register.inclusion_tag("messaging/_nav_unread.html", takes_context=True)
def messages_nav_label(context):
    """The item's text: "Messages" and the badge for the eye, "Messages, 3 unread" for screen
    readers. The whole name is one visually-hidden span and the visible part is aria-hidden,
    because a hidden span next to the badge makes Chrome read "Messages , 3 unread". Both stay
    in the page when nothing is unread, so messages.js can update them from its socket."""
    request = context.get("request")
    count = None
    if request is not None:
        count = nav_unread_thread_count(request.user, patient=getattr(request, "patient", None))
    return {"count": count or 0, "shown": count is not None}
