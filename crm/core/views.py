"""Home page and global search."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from crm.activities.selectors import open_tasks
from crm.core import home as home_widgets
from crm.core.selectors import global_search, recent_records


@login_required
def home(request):
    return render(request, "core/home.html", {
        "tasks": open_tasks(user=request.user, limit=15),
        "recent": recent_records(user=request.user),
        "widgets": home_widgets.widgets_for(request),
    })


@login_required
def search(request):
    query = request.GET.get("q", "")
    return render(request, "core/search.html", {"q": query, "groups": global_search(user=request.user, query=query)})
