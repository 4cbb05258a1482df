"""Sign in and out, password reset and change, preferences, two-factor authentication."""
from base64 import b32encode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _

from crm.access import auth, services
from crm.access.forms import LoginForm, OTPCodeForm, PreferencesForm, TwoFactorDisableForm
from crm.core import ratelimit
from crm.core.middleware import client_ip


def _login_failures_key(request) -> str:
    return f"login_failures:{client_ip(request)}"


class LoginView(auth_views.LoginView):
    """Only failures are limited, so a whole office behind one address can sign in at nine: per
    account by django-axes (AXES_FAILURE_LIMIT), per address here (LOGIN_FAILURE_RATE_LIMIT),
    which stops one address from trying a few passwords on each of many accounts."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if ratelimit.exceeded(_login_failures_key(request), settings.LOGIN_FAILURE_RATE_LIMIT):
            return render(request, "registration/login.html",
                          {"form": self.get_form(), "rate_limited": True}, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        ratelimit.hit(_login_failures_key(self.request), settings.LOGIN_FAILURE_RATE_LIMIT)
        return super().form_invalid(form)

    def form_valid(self, form):
        user = form.get_user()
        if services.two_factor_device(user) is None:
            return super().form_valid(form)
        # The password is right but the user is not signed in until the code is: see login_verify.
        auth.two_factor_login_start(self.request, user=user, next_url=self.get_success_url())
        return redirect("login_verify")


def login_verify(request):
    """The second sign-in step: the code from the authenticator app."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    user, expired = auth.two_factor_login_pending(request)
    device = services.two_factor_device(user) if user is not None else None
    if device is None:
        auth.two_factor_login_clear(request)
        if expired:
            messages.info(request, _("Signing in took too long. Please enter your email and password again."))
        return redirect("login")
    # Per address only wrong codes count (LOGIN_RATE_LIMIT), so colleagues behind one address who
    # enter their codes right are never refused; per user every attempt counts
    # (LOGIN_VERIFY_RATE_LIMIT): a 6-digit code must not be guessable from many addresses at once.
    ip_failures_key = f"login_verify:{client_ip(request)}"
    if request.method == "POST" and (
            ratelimit.exceeded(ip_failures_key, settings.LOGIN_RATE_LIMIT)
            or not ratelimit.hit(f"login_verify:user:{user.pk}", settings.LOGIN_VERIFY_RATE_LIMIT)):
        return render(request, "access/login_verify.html",
                      {"form": OTPCodeForm(device=device), "rate_limited": True}, status=429)
    form = OTPCodeForm(request.POST or None, device=device)
    if request.method == "POST":
        if form.is_valid():
            return redirect(auth.two_factor_login_complete(request, user=user, device=form.device))
        ratelimit.hit(ip_failures_key, settings.LOGIN_RATE_LIMIT)
        auth.two_factor_login_failed(request, user=user)
    return render(request, "access/login_verify.html", {"form": form})


def _qr_svg(data: str) -> str:
    """`data` as an inline SVG QR code (no styles or scripts, so CSP allows it); "" without qrcode."""
    try:
        import qrcode
    except ImportError:  # the page still shows the secret and the otpauth:// link as text
        return ""
    qr = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {0}" width="220" height="220" role="img" '
        'aria-label="{1}" shape-rendering="crispEdges" class="border rounded">'
        '<rect width="{0}" height="{0}" fill="#fff"/><path d="{2}" fill="#000"/></svg>',
        len(matrix), _("QR code for your authenticator app"), "".join(runs))


@login_required
def two_factor(request):
    """Turn two-factor authentication on (scan, then confirm with a code) or off (password and code)."""
    if request.method == "POST" and not ratelimit.hit(f"two_factor:{request.user.pk}", settings.LOGIN_RATE_LIMIT):
        messages.error(request, _("Too many attempts. Please wait a few minutes and try again."))
        return redirect("two_factor")
    ip = client_ip(request)
    device = services.two_factor_device(request.user)
    if device is not None:
        form = TwoFactorDisableForm(request.POST or None, user=request.user, device=device)
        if request.method == "POST" and form.is_valid():
            services.two_factor_disable(actor=request.user, user=request.user, ip=ip)
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("two_factor")
        return render(request, "access/two_factor.html", {"enabled": True, "form": form})

    device = services.two_factor_setup_device(user=request.user)
    form = OTPCodeForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        from django_otp import login as otp_login

        services.two_factor_enable(actor=request.user, device=form.device, ip=ip)
        otp_login(request, form.device)  # this session has just proven it holds the device
        messages.success(request, _("Two-factor authentication is on. You will be asked for a code when you sign in."))
        return redirect("two_factor")
    secret = b32encode(device.bin_key).decode()
    return render(request, "access/two_factor.html", {
        "enabled": False, "form": form, "qr_svg": _qr_svg(device.config_url), "otpauth_url": device.config_url,
        "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
    })


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"

    def form_valid(self, form):
        from crm.access.models import AuditLog
        from crm.access.services import audit

        response = super().form_valid(form)  # keeps this session, invalidates the others
        audit(actor=self.request.user, action=AuditLog.Action.PASSWORD_CHANGED, target=self.request.user,
              ip=client_ip(self.request))
        messages.success(self.request, _("Your password was changed. Your other sessions have been signed out."))
        return response

    def get_success_url(self):
        return "/preferences/"


@login_required
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your preferences were saved."))
        return redirect("preferences")
    return render(request, "access/preferences.html", {"form": form})
