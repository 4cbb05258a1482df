# The browser fixtures (a real Chromium that fails on any console or HTTP error) for test_browser.py.
from tests.browser.conftest import browser, page  # noqa: F401
