"""What to do when a test needs PostgreSQL or Redis and this run has none: skip on a
developer's machine, fail in CI (CI=true), where every such test must really run."""
import os

import pytest

IN_CI = bool(os.environ.get("CI"))


def missing(message):
    """Stop the current test for want of a service (`message` says which and how to set it)."""
    if IN_CI:
        pytest.fail(f"CI must run this test: {message}")
    pytest.skip(message)
