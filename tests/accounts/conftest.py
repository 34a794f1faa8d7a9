"""Helpers for the accounts tests: TOTP codes as an authenticator app would show them."""
import re

import pytest
from django_otp.oath import totp

from tests.factories import StaffFactory

API_KEY_PATTERN = re.compile(r"ck_[0-9a-f]{12}\.[A-Za-z0-9_-]+")


def totp_code(device, *, drift=0):
    """The code `device` accepts now (drift: that many time steps later or earlier)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)
    return f"{code:0{device.digits}d}"


def wrong_totp_code(device):
    """A well-formed code that no time step within the device's tolerance accepts."""
    valid = {totp_code(device, drift=k) for k in range(-device.tolerance - 1, device.tolerance + 2)}
    candidate = 123456
    while f"{candidate:06d}" in valid:
        candidate += 1
    return f"{candidate:06d}"


@pytest.fixture
def unenrolled_staff(db):
    """A front-desk user who has not set up an authenticator yet."""
    return StaffFactory(role="front_desk", totp=False)
