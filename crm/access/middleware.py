"""Per-request access plumbing: the idle-session limit and the user's preferences."""
import time
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.core.formatting import current_user

LAST_SEEN_KEY = "_crm_last_seen"


class SessionIdleTimeoutMiddleware:
    """Ends a session idle for longer than SESSION_IDLE_TIMEOUT. The last-seen
    time is written at most once a minute so most requests don't save the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                messages.info(request, _("Your session ended after a period of inactivity. Please sign in again."))
                return redirect_to_login(request.get_full_path())
            if last_seen is None or now - last_seen >= 60:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


class UserPreferencesMiddleware:
    """Activates the signed-in user's language and time zone for the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        token = current_user.set(user)
        language = translation.get_language()
        if user is not None and user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.timezone or "UTC"))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # What runs next in this thread (a test, a worker's task) must not speak this user's language.
            if language:
                translation.activate(language)
            else:
                translation.deactivate()
            timezone.deactivate()
            current_user.reset(token)
