from django import forms

from apps.core import validation
from apps.messaging.threads.attachments import ALLOWED

ACCEPT = ",".join(sorted({ext for _, exts in ALLOWED.values() for ext in exts}))


class AttachmentsMixin(forms.Form):
    # Rendered by hand in the template (<input type=file multiple>); the view passes
    # request.FILES.getlist("attachments") to the service, which checks each file's content.
    attachments = forms.Field(required=False, label="Attach files", help_text="PDF, PNG, JPEG, HEIC or plain text; up to 10 MB each.")


class ReplyForm(AttachmentsMixin):
    body = forms.CharField(
        label="Your reply", required=False, max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4, "data-typing": ""}),
    )


class NewThreadForm(AttachmentsMixin):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(label="Message", max_length=10_000, widget=forms.Textarea(attrs={"rows": 6}))


class StaffNewThreadForm(NewThreadForm):
    mrn = forms.CharField(label="Patient MRN", max_length=8, help_text="The patient's 8-digit medical record number.")

    field_order = ["mrn", "subject", "body", "attachments"]


# What AssigneeField answers for a value that names no one: the assign view looks it up,
# finds nobody and says "Choose a staff member." (nothing is changed).
NO_SUCH_STAFF = "?"


class AssigneeField(forms.Field):
    """"" (unassign), "me", or a staff user's id within 64 bits. Anything else (a NUL, a number
    past 64 bits, a 10,000-character string) cleans to NO_SUCH_STAFF: an invalid field would
    leave cleaned_data without it, which the view reads as "unassign"."""

    def clean(self, value):
        value = (value or "").strip() if isinstance(value, str) else ""
        if value in ("", "me") or validation.int64_or_none(value) is not None:
            return value
        return NO_SUCH_STAFF


class AssignForm(forms.Form):
    assignee = AssigneeField(required=False)


class ThreadStatusForm(forms.Form):
    """Close or reopen a thread, with an optional reason for its event row. The page sends no
    reason today; a crafted one gets the shared text rules (a NUL or an unpaired surrogate is
    a 400 naming the reason) and is kept to its first REASON_LENGTH characters, as before."""

    REASON_LENGTH = 200

    action = forms.ChoiceField(choices=[("close", "Close"), ("reopen", "Reopen")])
    reason = forms.CharField(label="Reason", required=False)

    def clean_reason(self):
        return validation.check_text(self.cleaned_data["reason"])[: self.REASON_LENGTH]
