"""/api/v1/portal/devices/ and /api/v1/portal/push-preferences/: the phone app registers
itself for push (platform, app version, push token), sends a new token when the platform
issues one, unregisters on sign-out, and switches push per category. Thin views over
messaging's push services (apps/messaging/push/services.py); another user's device is 404."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.messaging.push import selectors as push_selectors
from apps.messaging.push import services as push_services
from apps.messaging.push.models import Device, PushPreference
from apps.portal_api.api import ERRORS, PortalView
from apps.portal_api.operations import parse as _parse


def _errors(*codes):
    return {code: ERRORS[code] for code in (401, 403, *codes)}


class DeviceOutput(serializers.ModelSerializer):
    class Meta:
        model = Device
        # Never the token back: it is the phone's push credential.
        fields = ["id", "platform", "app_version", "created_at", "updated_at"]
        read_only_fields = fields


class DeviceRegisterInput(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    push_token = serializers.CharField(max_length=Device.TOKEN_MAX_LENGTH, trim_whitespace=True)
    app_version = serializers.CharField(max_length=Device.APP_VERSION_MAX_LENGTH, required=False, allow_blank=True, default="")


class DeviceUpdateInput(serializers.Serializer):
    push_token = serializers.CharField(max_length=Device.TOKEN_MAX_LENGTH, required=False, trim_whitespace=True)
    app_version = serializers.CharField(max_length=Device.APP_VERSION_MAX_LENGTH, required=False, allow_blank=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"push_token": ["Send push_token and/or app_version."]})
        return attrs


class PushPreferencesSerializer(serializers.Serializer):
    appointment_reminders = serializers.BooleanField(required=False)
    messages = serializers.BooleanField(required=False)
    lab_results = serializers.BooleanField(required=False)
    bills = serializers.BooleanField(required=False)

    def to_internal_value(self, data):
        # Strict booleans: "yes", 1 or "" are refused, not read as a switch.
        if isinstance(data, dict):
            bad = {name: ["Give true or false."] for name in PushPreference.FIELDS if name in data and not isinstance(data[name], bool)}
            if bad:
                raise serializers.ValidationError(bad)
        return super().to_internal_value(data)


def _preferences_body(user):
    preference = push_services.push_preferences(user)
    return {name: getattr(preference, name) for name in PushPreference.FIELDS}


class DevicesView(PortalView):
    @extend_schema(summary="My registered devices", responses={200: DeviceOutput(many=True), **_errors()})
    def get(self, request):
        return Response(DeviceOutput(push_selectors.devices_for(request.user), many=True).data)

    @extend_schema(
        summary="Register this phone for push",
        description="One row per installed app: the same token again answers 200 with the same device; a token "
                    "another account registered moves to this one. Push carries a generic line only "
                    "(\"You have a new message\"); the app reads the detail from /api/v1/portal/notifications/.",
        request=DeviceRegisterInput,
        responses={201: DeviceOutput, 200: DeviceOutput, **_errors(400)},
    )
    def post(self, request):
        data = _parse(DeviceRegisterInput, request.data)
        device, created = push_services.device_register(user=request.user, **data)
        return Response(DeviceOutput(device).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class DeviceView(PortalView):
    @extend_schema(summary="One of my devices", responses={200: DeviceOutput, **_errors(404)})
    def get(self, request, device_id):
        return Response(DeviceOutput(push_selectors.access_device(request.user, device_id)).data)

    @extend_schema(summary="Send the new push token (or app version) of this phone", request=DeviceUpdateInput,
                   responses={200: DeviceOutput, **_errors(400, 404)})
    def patch(self, request, device_id):
        device = push_selectors.access_device(request.user, device_id)
        data = _parse(DeviceUpdateInput, request.data)
        device = push_services.device_update(device=device, actor=request.user, **data)
        return Response(DeviceOutput(device).data)

    @extend_schema(summary="Unregister this phone (no more push to it)", request=None,
                   responses={204: OpenApiResponse(description="Unregistered"), **_errors(404)})
    def delete(self, request, device_id):
        device = push_selectors.access_device(request.user, device_id)
        push_services.device_unregister(device=device, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PushPreferencesView(PortalView):
    @extend_schema(summary="Which kinds of notification reach my phones by push", responses={200: PushPreferencesSerializer, **_errors()})
    def get(self, request):
        return Response(_preferences_body(request.user))

    @extend_schema(summary="Turn push on or off per kind", request=PushPreferencesSerializer,
                   responses={200: PushPreferencesSerializer, **_errors(400)})
    def patch(self, request):
        data = _parse(PushPreferencesSerializer, request.data)
        push_services.push_preferences_update(user=request.user, data=dict(data))
        return Response(_preferences_body(request.user))
