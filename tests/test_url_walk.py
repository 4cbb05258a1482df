"""Walk every URL pattern: anonymous users are sent to /login/, and no page
answers 500 for any demo role."""
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from crm.access.models import User

# Pages anyone may open without signing in.
PUBLIC = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "login_verify",
    "leads:webform_public",
    "approvals:email_link",  # the signed single-use link of an approver's e-mail: the token is the sign-in
}
# Old addresses that moved: they redirect to the new one (which asks for a sign-in) and show nothing.
MOVED = {
    "accounts:contact_list_moved": "/contacts/",
    "accounts:contact_detail_moved": "/contacts/",
}
SKIP_NAMESPACES = {"admin"}  # the Django admin has its own login; superusers only
PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if ns in SKIP_NAMESPACES:
                continue
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns if p.namespace else namespace)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            if route.startswith("^") or "(?P" in route:  # regex patterns: third-party, skipped
                continue
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield name, route


def sample_values():
    """Real ids to put into URLs, so detail pages render rather than 404."""
    from accounts.models import Account, Contact
    from leads.models import Lead
    from opportunities.models import Opportunity

    def first(model):
        obj = model.objects.order_by("pk").first()
        return obj.pk if obj else 1

    return {
        "leads": first(Lead),
        "accounts": first(Account),
        "contact": first(Contact),
        "opportunities": first(Opportunity),
    }


def fill(route, namespace_hint, samples):
    def replace(match):
        conv, name = match.group("conv"), match.group("name")
        if conv in (None, "str", "slug"):
            return "x"
        if conv == "uuid":
            return "00000000-0000-0000-0000-000000000000"
        if conv == "path":
            return "x"
        if "contact" in name:
            return str(samples["contact"])
        return str(samples.get(namespace_hint, 1))

    return "/" + PARAM.sub(replace, route)


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)


def all_urls():
    samples = sample_values()
    for name, route in walk(get_resolver().url_patterns):
        if route.startswith("static/") or route.startswith("media/"):
            continue
        yield name, fill(route, name.split(":")[0], samples)


def test_anonymous_users_are_sent_to_login(demo, client):
    checked = 0
    for name, url in all_urls():
        if name in PUBLIC:
            continue
        response = client.get(url)
        assert response.status_code in (302, 301), (name, url, response.status_code)
        allowed = ("/login/", MOVED[name]) if name in MOVED else ("/login/",)
        assert response["Location"].startswith(allowed), (name, url, response["Location"])
        checked += 1
    assert checked > 20


@pytest.mark.parametrize(
    "email",
    [
        "admin@demo.local", "ceo@demo.local", "manager@demo.local", "rep1@demo.local", "rep3@demo.local",
        "agent@demo.local", "marketer@demo.local",
    ],
)
def test_no_page_answers_500_for_any_demo_role(demo, email):
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(email=email))
    failures = []
    for name, url in all_urls():
        if name in ("logout",):
            continue
        response = client.get(url)
        if response.status_code >= 500:
            failures.append((name, url, response.status_code))
    assert failures == []
