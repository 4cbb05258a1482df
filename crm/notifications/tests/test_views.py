import pytest
from django.urls import reverse

from crm.access.tests.factories import UserFactory
from crm.notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_list_requires_login(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_bell_shows_unread_count(client):
    user = UserFactory()
    NotificationFactory.create_batch(3, recipient=user)
    NotificationFactory(recipient=UserFactory())  # someone else's
    client.force_login(user)
    response = client.get(reverse("notifications:bell"))
    assert response.status_code == 200
    assert ">3<" in response.content.decode().replace(" ", "")


def test_mark_read_redirects_only_to_relative_urls(client):
    user = UserFactory()
    evil = NotificationFactory(recipient=user, url="//evil.example.com/x")
    client.force_login(user)
    response = client.post(reverse("notifications:read", args=[evil.pk]))
    assert response["Location"] == reverse("notifications:list")
    evil.refresh_from_db()
    assert evil.read_at is not None


def test_mark_read_goes_to_local_url(client):
    user = UserFactory()
    note = NotificationFactory(recipient=user, url="/leads/")
    client.force_login(user)
    assert client.post(reverse("notifications:read", args=[note.pk]))["Location"] == "/leads/"


def test_other_users_notification_is_404(client):
    note = NotificationFactory(recipient=UserFactory())
    client.force_login(UserFactory())
    assert client.post(reverse("notifications:read", args=[note.pk])).status_code == 404


def test_the_bell_counts_again_when_a_notification_is_sent_or_read(client):
    import re

    from crm.notifications.services import notification_send, notifications_mark_read

    user = UserFactory()
    client.force_login(user)

    def bell() -> int:
        found = re.search(r"data-unread-count>(\d+)<", client.get(reverse("notifications:bell")).content.decode())
        return int(found.group(1)) if found else 0

    assert bell() == 0  # and the count is now kept
    first = notification_send(recipient=user, message="One")
    notification_send(recipient=user, message="Two")
    assert bell() == 2
    notifications_mark_read(user=user, ids=[first.pk])
    assert bell() == 1
    client.post(reverse("notifications:read_all"))
    assert bell() == 0


def test_next_and_previous_links_open_the_other_page(client):
    import html
    import re
    from urllib.parse import urljoin

    user = UserFactory()
    NotificationFactory.create_batch(30, recipient=user)
    client.force_login(user)
    first = reverse("notifications:list")
    body = client.get(first).content.decode()
    href = html.unescape(re.search(r'<a class="page-link" href="([^"]*)">Next<', body).group(1))
    second = urljoin(first, href)  # as the browser resolves it: "??page=2" would keep page 1

    body = client.get(second).content.decode()
    assert "Page 2 of 2" in body and second.endswith("?page=2")
    back = urljoin(second, html.unescape(re.search(r'<a class="page-link" href="([^"]*)">Previous<', body).group(1)))
    assert "Page 1 of 2" in client.get(back).content.decode()
