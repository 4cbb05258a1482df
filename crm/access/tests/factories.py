"""Factories for users, roles, profiles, teams and sharing."""
import factory

from crm.access.models import ObjectPermission, PermissionProfile, Role, SharingRule, Team, User
from crm.access import services

PASSWORD = "crm-test-pass-2026"


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"Role {n}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.role_create(actor=None, **kwargs)


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PermissionProfile
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Profile {n}")

    @factory.post_generation
    def record_types(self, create, extracted, **kwargs):
        """record_types=["leads.lead", ...] grants every action on them (default: all registered)."""
        if not create:
            return
        from crm.core import records

        keys = extracted if extracted is not None else [rt.key for rt in records.all_types()]
        for key in keys:
            ObjectPermission.objects.update_or_create(
                profile=self, record_type=key,
                defaults=dict(can_view=True, can_create=True, can_edit=True, can_delete=True, can_import=True, can_export=True),
            )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    profile = factory.SubFactory(ProfileFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class AdminFactory(UserFactory):
    profile = factory.SubFactory(ProfileFactory, is_admin=True)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class SharingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SharingRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    record_type = "leads.lead"


def set_org_default(record_type: str, access: str) -> None:
    services.org_default_set(actor=None, record_type=record_type, access=access)
