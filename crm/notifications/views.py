"""The bell, the list, mark as read."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from crm.core.urls_safe import safe_next
from crm.notifications.models import Notification
from crm.notifications.services import notifications_mark_read


@login_required
def bell(request):
    return render(request, "notifications/_bell.html")


@login_required
def notification_list(request):
    qs = Notification.objects.filter(recipient=request.user).order_by("read_at", "-created_at", "-id")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_POST
def mark_read(request, pk):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notifications_mark_read(user=request.user, ids=[notification.pk])
    # Only our own relative URLs: a notification must never become an open redirect.
    return redirect(safe_next(request, "notifications:list", url=notification.link or ""))


@login_required
@require_POST
def mark_all_read(request):
    notifications_mark_read(user=request.user)
    return redirect("notifications:list")
