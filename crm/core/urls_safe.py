"""Where to send the browser after a POST: a `next` only when it is a path on this site, so no
form or stored link can be turned into an open redirect."""
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, fallback: str, *, url: str | None = None) -> str:
    """`url` (default: the request's `next`, POST before GET) when it is a local path, else `fallback`
    (a path or a URL name). Browsers read "\\" as "/", so "/\\evil.com" is "//evil.com" to them:
    backslashes, percent-encoded ones included, are refused along with anything that does not start
    with exactly one "/"."""
    if url is None:
        url = request.POST.get("next") or request.GET.get("next") or ""
    if (url.startswith("/") and not url.startswith("//") and "\\" not in url and "%5c" not in url.lower()
            and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure())):
        return url
    return resolve_url(fallback)
