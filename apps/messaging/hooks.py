"""The messaging app's extension points for the floors above it (connected in their
AppConfig.ready(); apps/core/hooks.py). Messaging never imports them."""
from apps.core.hooks import Hook

# Notifications of one user changed by a bulk write (QuerySet.update(), which sends no
# post_save): today marking read, one or all. Called inside the writing transaction, once per
# batch of ids, e.g. so the app API's offline-sync log (apps/portal_api/changes.py) can note
# them in one statement. receiver(*, user, ids: list of notification ids) -> None
notifications_changed = Hook("notifications_changed", "(*, user, ids) -> None, in the writing transaction")
