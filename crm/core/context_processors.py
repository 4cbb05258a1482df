"""What the base layout needs on every page."""


def shell(request):
    from crm.core.navigation import navigation_for

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_items": navigation_for(request)}
