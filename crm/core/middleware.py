"""Request plumbing shared by the platform."""
import ipaddress

from django.conf import settings


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
