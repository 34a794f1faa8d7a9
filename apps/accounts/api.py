"""The integrator API's own corner: who am I? For integrators checking a key (its name and
scopes) and for signed-in staff (their email and role). It reads no patient data, so it needs
no scope and writes no audit row; for an API key it costs one query, the key lookup."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import ApiKey
from apps.accounts.services import sign_out_everywhere, signed_in_sessions


class ApiKeyOrStaff(BasePermission):
    """Any active API key, whatever its scopes; staff sessions with a verified second factor
    (MFASessionAuthentication treats the others as anonymous). Never patients."""

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiKey):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_clinic_staff)


class WhoAmIOutput(serializers.Serializer):
    actor_type = serializers.ChoiceField(choices=["api_key", "staff"])
    name = serializers.CharField(help_text="The key's name, or the staff member's full name.")
    email = serializers.EmailField(allow_null=True, help_text="Staff only; null for a key.")
    role = serializers.CharField(help_text='"integrator" for a key, else the staff role.')
    scopes = serializers.ListField(child=serializers.CharField(), help_text="The key's scopes; empty for staff.")


class WhoAmIView(APIView):
    permission_classes = [ApiKeyOrStaff]

    @extend_schema(summary="Who am I", responses=WhoAmIOutput)
    def get(self, request):
        if isinstance(request.auth, ApiKey):
            key = request.auth
            body = {"actor_type": "api_key", "name": key.name, "email": None, "role": key.role, "scopes": list(key.scopes)}
        else:
            user = request.user
            body = {"actor_type": "staff", "name": user.get_full_name(), "email": user.email, "role": user.role, "scopes": []}
        return Response(body)


# --- the phone app's own session (README "Patient app API") --------------------------------

class SignedInPerson(BasePermission):
    """A person signed in (an app token, or a portal session), never an API key."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and not isinstance(request.auth, ApiKey))


class AppSessionOutput(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    phone = serializers.CharField(allow_null=True, help_text="The sign-in mobile number, E.164; null when none is verified.")
    sessions = serializers.IntegerField(help_text="How many signed-in sessions (apps and browsers) this account has.")


class AppSessionView(APIView):
    """Who the token belongs to. Reads no patient data (the portal API does)."""

    permission_classes = [SignedInPerson]

    @extend_schema(summary="The signed-in person", responses=AppSessionOutput)
    def get(self, request):
        user = request.user
        return Response({
            "email": user.email,
            "name": user.get_full_name(),
            "phone": user.phone if user.phone_verified else None,
            "sessions": signed_in_sessions(user),
        })


class SignOutEverywhereView(APIView):
    """End every session of the account: every app token and every browser, this one too."""

    permission_classes = [SignedInPerson]

    @extend_schema(summary="Sign out everywhere", request=None, responses={204: None})
    def post(self, request):
        sign_out_everywhere(user=request.user)
        return Response(status=204)
