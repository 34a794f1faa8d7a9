"""One way to fetch an object by an id that came from a URL or a request body."""
from django.core.exceptions import ValidationError

from apps.core.exceptions import NotFound


def get_or_not_found(queryset, **lookup):
    """queryset.get(**lookup), with a missing row and a malformed id (not a UUID, wrong type)
    both answering NotFound, so callers never reveal which one it was."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound()
