"""The integrator API's own corner: who am I? For integrators checking a key (its name and
scopes) and for signed-in staff (their email and role). It reads no patient data, so it needs
no scope and writes no audit row; for an API key it costs one query, the key lookup."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import ApiKey


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
