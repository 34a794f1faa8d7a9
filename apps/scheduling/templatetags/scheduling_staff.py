"""{% scheduling_tiles %}: the staff dashboard's scheduling tiles (two count queries), shown to
staff who may see visit requests."""
from django import template

from apps.scheduling.selectors import scheduling_dashboard_counts

register = template.Library()


@register.inclusion_tag("scheduling/staff/_dashboard_tiles.html", takes_context=True)
def scheduling_tiles(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("scheduling.view_visitrequest"):
        return {"show": False}
    return {"show": True, **scheduling_dashboard_counts()}
