"""Settings pages carry one breadcrumb trail: Home › Settings › the page, each a list item of the same list (the
settings layout once put a second trail inside the first, read aloud and shown as "HomeSettings")."""
import re

import pytest
from django.urls import reverse

from crm.access.tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url_name", ["settings:audit_log", "opportunities:currencies", "opportunities:sales_settings"])
def test_one_breadcrumb_trail(client, url_name):
    client.force_login(AdminFactory(language="en"))
    page = client.get(reverse(url_name)).content.decode()
    trail = re.search(r'<ol class="breadcrumb[^"]*">(.*?)</ol>', page, re.S).group(1)
    assert page.count('class="breadcrumb') == 1 + page.count('class="breadcrumb-item')
    items = re.findall(r'<li class="breadcrumb-item[^"]*"[^>]*>(.*?)</li>', trail, re.S)
    texts = [re.sub(r"<[^>]+>", "", item).strip() for item in items]
    assert texts[:2] == ["Home", "Settings"] and len(texts) == 3
