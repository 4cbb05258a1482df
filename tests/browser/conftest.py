"""Browser tests: a real Chromium (Debian's /usr/bin/chromium) against pytest-django's live_server.

Run `scripts/vendor.sh` first so static/vendor exists; live_server serves static files
through the staticfiles finders."""
import os

import pytest

# Playwright's sync API keeps an event loop running in this thread; the ORM calls the
# tests make (factories) are still synchronous, so allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def browser(django_db_setup):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Django keeps connections in an asgiref Local; once Playwright's event loop runs in this thread the
    # tests see fresh connection objects, which lack the serialized contents that serialized rollback
    # restores after a flush (the default pipeline, picklists...). Hand them over.
    serialized = {alias: getattr(connections[alias], "_test_serialized_contents", None) for alias in connections}
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for alias, contents in serialized.items():
            if contents is not None:
                connections[alias]._test_serialized_contents = contents
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server, transactional_db, django_db_serialized_rollback):
    context = browser.new_context()
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text} at {msg.location.get('url')}") if msg.type == "error" else None)
    pg.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    yield pg
    context.close()
    assert not errors, "browser errors:\n" + "\n".join(errors)


def login(page, live_server, email: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username], input[name=email], input[type=email]", email)
    page.fill("input[type=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state("networkidle")
