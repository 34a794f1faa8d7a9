"""The portal's consent forms. They parse and type-check; every rule (acknowledgements, answers,
the name, the signature, the step-up) lives in the services, whose refusals land on the form
through core.pages.on_error."""
from django import forms

from apps.core import validation

ACTIONS = (("save", "Save and continue later"), ("sign", "Sign"))
SIGNATURE_MODES = (("draw", "Draw my signature"), ("type", "Type my signature"))


def _text(value, max_length):
    return validation.check_text(value, max_length=max_length)


class SigningForm(forms.Form):
    """One field per clause acknowledgement (ack_<key>) and per understanding check
    (answer_<key>), then the name, the signature and the step-up secret."""

    typed_name = forms.CharField(label="Your full legal name", max_length=300, required=False,
                                 widget=forms.TextInput(attrs={"autocomplete": "name"}))
    signature_mode = forms.ChoiceField(choices=SIGNATURE_MODES, initial="draw", required=False, widget=forms.RadioSelect)
    signature_data = forms.CharField(required=False, max_length=300_000, widget=forms.HiddenInput)
    typed_signature = forms.CharField(label="Typed signature", max_length=200, required=False)
    secret = forms.CharField(label="Password (or authenticator code)", max_length=128, required=False,
                             widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    action = forms.ChoiceField(choices=ACTIONS, initial="save")

    def __init__(self, template, *args, acknowledged=(), answers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.template = template
        answers = answers or {}
        for section in template.sections:
            for clause in section["clauses"]:
                self.fields[f"ack_{clause['key']}"] = forms.BooleanField(
                    label="I have read and understood this", required=False, initial=clause["key"] in acknowledged)
        for check in template.checks:
            self.fields[f"answer_{check['key']}"] = forms.ChoiceField(
                label=check["question"], choices=[(c, c) for c in check["choices"]], required=False,
                widget=forms.RadioSelect, initial=answers.get(check["key"]))

    def clean(self):
        data = super().clean()
        for name in ("typed_name", "typed_signature", "secret"):
            if data.get(name):
                try:
                    _text(data[name], self.fields[name].max_length)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data

    def acknowledged(self):
        return [key for key in self.template.clause_keys() if self.cleaned_data.get(f"ack_{key}")]

    def answers(self):
        return {key: self.cleaned_data[f"answer_{key}"] for key in self.template.check_keys()
                if self.cleaned_data.get(f"answer_{key}")}

    def sections(self):
        """The template's sections with each clause's bound checkbox, for the page."""
        return [{"title": s["title"], "clauses": [{"key": c["key"], "text": c["text"], "field": self[f"ack_{c['key']}"]}
                                                   for c in s["clauses"]]} for s in self.template.sections]

    def checks(self):
        return [{"key": c["key"], "question": c["question"], "field": self[f"answer_{c['key']}"],
                 "explanation": c["explanation"]} for c in self.template.checks]


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_reason(self):
        return _text(self.cleaned_data["reason"], 2000).strip()


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(label="Anything you would like us to know (optional)", max_length=2000, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def clean_reason(self):
        return _text(self.cleaned_data["reason"], 2000).strip()
