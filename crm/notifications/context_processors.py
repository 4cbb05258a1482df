def unread(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from crm.notifications.services import unread_count

    return {"unread_notifications": unread_count(user)}
