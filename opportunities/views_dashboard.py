"""The sales dashboard page (/opportunities/dashboard/); the same dashboard is the home page's first widget for
managers (opportunities.apps registers it)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from opportunities import dashboard as sales


@login_required
def dashboard(request):
    context = sales.dashboard(request.user, pipeline_id=request.GET.get("pipeline"))
    if context is None:
        raise Http404
    return render(request, "opportunities/dashboard/page.html", {"ctx": context})


def home_widget(request) -> dict | None:
    """Home: the dashboard, first for a manager (their home page opens with it), after My day for a rep."""
    context = sales.dashboard(request.user, pipeline_id=request.GET.get("pipeline"))
    if context is None:
        return None
    context["first"] = sales.is_manager(request.user)
    return context
