"""Test-wide isolation: user models go to a temporary GAN_APP_HOME, never to the developer's home.

Set in the environment (not only monkeypatched per test) so CLI subprocesses inherit it.
"""

import os
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def isolated_app_home():
    """GAN_APP_HOME -> a fresh temporary folder for the whole session."""
    before = os.environ.get("GAN_APP_HOME")
    with tempfile.TemporaryDirectory(prefix="gan-app-home-") as home:
        os.environ["GAN_APP_HOME"] = home
        yield home
    if before is None:
        os.environ.pop("GAN_APP_HOME", None)
    else:
        os.environ["GAN_APP_HOME"] = before
