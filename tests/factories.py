import datetime

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.patients.models import Patient


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(user=obj, email=obj.email, defaults={"verified": True, "primary": True})
        if create:
            obj.save()


class StaffFactory(UserFactory):
    """A staff user in `role` with a confirmed TOTP device (key in TOTP_KEY)."""

    is_staff = True

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        """StaffFactory(role="provider"); front_desk by default."""
        if not create:
            return
        from django.contrib.auth.models import Group

        from apps.accounts.roles import ensure_roles

        role = extracted or "front_desk"
        if not Group.objects.filter(name=role).exists():
            ensure_roles()
        obj.groups.add(Group.objects.get(name=role))

    @factory.post_generation
    def totp(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            TOTPDevice.objects.create(user=obj, name="test", key=TOTP_KEY_HEX, confirmed=True)


TOTP_KEY_HEX = "3132333435363738393031323334353637383930"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"9{n:07d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_between", start_date=datetime.date(1940, 1, 1), end_date=datetime.date(2015, 1, 1))
    email = factory.LazyAttribute(lambda o: f"{o.first_name}.{o.last_name}.{o.mrn}@example.test".lower())
    phone = factory.Sequence(lambda n: f"+1212555{n % 10000:04d}")


class PortalPatientFactory(PatientFactory):
    user = factory.SubFactory(UserFactory, email=factory.SelfAttribute("..email"))


class NotificationFactory(factory.django.DjangoModelFactory):
    """An in-app notification; pass recipient=<user>."""

    class Meta:
        model = "messaging.Notification"

    recipient = factory.SubFactory(UserFactory)
    kind = "test_event"
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = ""
    link = ""
