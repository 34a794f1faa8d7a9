"""Secure messaging between a patient and the care team: threads, messages, attachments, read
state, and the live events that keep both sides' pages current.

models.py (imported by apps/messaging/models.py so Django finds them), attachments.py (private
storage and type-by-content checks), services.py (every write), selectors.py (reads and the
access_* helpers), events.py (live events after commit), consumers.py (/ws/messages/),
views.py + urls.py (portal, staff, download), api.py + api_urls.py (/api/v1/).
"""
