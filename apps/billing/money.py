"""Money: Decimal only, two places, rounded half-up to cents at the points this module names.

Every amount the billing app stores is a numeric(12, 2) column; arithmetic happens on Decimals
and is rounded once, by cents(), when a price is multiplied or a share computed. Floats never
enter: to_money() refuses them."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_DIGITS, PLACES = 12, 2
# The largest amount a numeric(12, 2) column holds.
MAX_AMOUNT = Decimal("9999999999.99")


def money_field(**kwargs):
    from django.db import models

    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES, **{"default": ZERO, **kwargs})


def cents(value):
    """`value` rounded half-up to the cent (0.005 -> 0.01, 2.675 -> 2.68)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_money(value):
    """A string, int or Decimal as an amount in cents; ValueError for floats, NaN, infinities
    and anything that is not a number."""
    if isinstance(value, float):
        raise ValueError("Money is never a float.")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValueError("Not an amount.") from None
    if not amount.is_finite():
        raise ValueError("Not an amount.")
    return cents(amount)


def to_minor_units(amount):
    """Cents as an integer, for gateways (Stripe takes amounts in the smallest unit)."""
    return int((cents(amount) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_minor_units(value):
    return cents(Decimal(int(value)) / 100)
