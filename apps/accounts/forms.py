from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.core.validators import MaxLengthValidator


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
    )

    def clean_token(self):
        return self.cleaned_data["token"].replace(" ", "").strip()


class LoginForm(AllauthLoginForm):
    """allauth's login form (email or phone, password). With phone sign-in the login field is
    plain text, so its length is checked here: an address or number longer than any email
    (254 characters) is refused on the field, not looked up."""

    MAX_LOGIN = 254

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["login"]
        field.max_length = self.MAX_LOGIN
        field.validators.append(MaxLengthValidator(self.MAX_LOGIN))
        field.widget.attrs.setdefault("maxlength", str(self.MAX_LOGIN))
