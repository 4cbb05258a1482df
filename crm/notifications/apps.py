from django.apps import AppConfig


class Config(AppConfig):
    name = "crm.notifications"
    label = "notifications"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from crm.notifications.models import Notification
        from crm.notifications.services import unread_changed

        def changed(sender, instance, **kwargs):  # cache invalidation only: the bell's count
            unread_changed(instance.recipient_id)

        post_save.connect(changed, sender=Notification, dispatch_uid="unread-count-save", weak=False)
        post_delete.connect(changed, sender=Notification, dispatch_uid="unread-count-delete", weak=False)
