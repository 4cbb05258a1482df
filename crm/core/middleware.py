"""Request plumbing shared by the platform."""
import ipaddress

from django.conf import settings
from django.utils.cache import patch_cache_control


def _trusted(addr: str) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    for entry in settings.TRUSTED_PROXIES:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


class RequestScopeMiddleware:
    """Opens the request's memo (crm/core/request_memo.py) before anything reads the signed-in user, so
    that the configuration versions are read from Redis once per request, the user's cache included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from crm.core.request_memo import request_scope

        with request_scope():
            return self.get_response(request)


class TrustedProxyMiddleware:
    """Use X-Forwarded-For only when the request comes from a configured proxy
    (TRUSTED_PROXIES); otherwise a client could forge its address and dodge
    rate limits and lockouts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        remote = request.META.get("REMOTE_ADDR", "")
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded and _trusted(remote):
            # Walk from the right, skipping our own proxies: the first untrusted hop is the client.
            hops = [h.strip() for h in forwarded.split(",") if h.strip()]
            client = remote
            for hop in reversed(hops):
                client = hop
                if not _trusted(hop):
                    break
            request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class NoStoreForSignedInMiddleware:
    """Pages for a signed-in user carry `Cache-Control: no-store, private`: on a shared computer the
    back button after signing out must not show records from the browser's cache. A response that
    chose its own Cache-Control keeps it; static files never get here (WhiteNoise answers them
    earlier in MIDDLEWARE), so they stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response
