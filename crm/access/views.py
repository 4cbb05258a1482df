"""Sign in and out, password reset and change, preferences."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from crm.access.forms import LoginForm, PreferencesForm
from crm.core import ratelimit
from crm.core.middleware import client_ip


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if not ratelimit.hit(f"login:{client_ip(request)}", settings.LOGIN_RATE_LIMIT):
            return render(request, "registration/login.html",
                          {"form": self.get_form(), "rate_limited": True}, status=429)
        return super().post(request, *args, **kwargs)


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
