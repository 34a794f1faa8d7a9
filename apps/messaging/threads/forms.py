from django import forms

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


class AssignForm(forms.Form):
    assignee = forms.CharField(required=False)

