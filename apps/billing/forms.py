"""Billing's portal and staff forms: they parse and type-check; the services hold the rules."""
import uuid
from decimal import Decimal

from django import forms

from apps.billing.models import Coverage, Payer, Payment
from apps.billing.models.insurance import GROUP_VALIDATOR, MEMBER_ID_VALIDATOR
from apps.billing.money import MAX_AMOUNT
from apps.core import validation


class AmountField(forms.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_AMOUNT, **kwargs)


class TextField(forms.CharField):
    """Short text the database can store (no NUL: core's validation)."""

    def clean(self, value):
        return validation.check_text(super().clean(value), max_length=self.max_length)


class PayForm(forms.Form):
    """The portal's card form. `idempotency_key` is made when the form is drawn (one per
    attempt): pressing pay twice sends the same key, so the card is charged once."""

    amount = AmountField(label="Amount ($)")
    card_number = TextField(max_length=23, label="Card number",
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}))
    idempotency_key = TextField(max_length=64, widget=forms.HiddenInput)

    @staticmethod
    def new_key():
        return uuid.uuid4().hex


class ReasonForm(forms.Form):
    reason = TextField(max_length=500)


class AdjustForm(ReasonForm):
    unit_price = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=MAX_AMOUNT, required=False)
    quantity = forms.IntegerField(min_value=1, max_value=999, required=False)
    modifiers = TextField(max_length=20, required=False, help_text="Comma-separated, e.g. 25, 95")

    def clean_modifiers(self):
        value = self.cleaned_data.get("modifiers") or ""
        items = [m.strip().upper() for m in value.split(",") if m.strip()]
        for item in items:
            if len(item) != 2 or not item.isalnum():
                raise forms.ValidationError("Modifiers are two letters or digits.")
        return items if value.strip() else None


class DeskPaymentForm(forms.Form):
    amount = AmountField()
    method = forms.ChoiceField(choices=[(m.value, m.label) for m in Payment.Method if m != Payment.Method.CARD_ONLINE])
    reference = TextField(max_length=60, required=False, help_text="Check number or terminal slip.")


class RefundForm(ReasonForm):
    amount = AmountField(required=False, help_text="Leave empty to refund all that is left.")


class InsuranceForm(forms.Form):
    insurance_portion = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=MAX_AMOUNT)


DATE = forms.DateInput(attrs={"type": "date"})


class CoverageForm(forms.Form):
    """An insurance card, as the front of the card shows it. The service keeps the rules (one
    active card per priority, the subscriber named when the plan is someone else's)."""

    payer = forms.ModelChoiceField(queryset=Payer.objects.filter(is_active=True), empty_label="Choose the insurer")
    member_id = TextField(max_length=80, label="Member ID", validators=[MEMBER_ID_VALIDATOR])
    group_number = TextField(max_length=50, required=False, label="Group number", validators=[GROUP_VALIDATOR])
    priority = forms.ChoiceField(choices=Coverage.Priority.choices, initial=Coverage.Priority.PRIMARY)
    relationship = forms.ChoiceField(choices=Coverage.Relationship.choices, initial=Coverage.Relationship.SELF,
                                     label="Patient's relationship to the subscriber")
    subscriber_first_name = TextField(max_length=35, required=False, label="Subscriber's first name")
    subscriber_last_name = TextField(max_length=60, required=False, label="Subscriber's last name")
    subscriber_date_of_birth = validation.BirthDateField(required=False, label="Subscriber's date of birth", widget=DATE)
    effective_from = validation.DateField(label="Coverage starts", widget=DATE)
    effective_to = validation.DateField(required=False, label="Coverage ends", widget=DATE)


class DepositForm(forms.Form):
    """Billing staff set (or change, while unpaid) a procedure plan's deposit."""

    amount = AmountField(label="Deposit ($)")
