"""How our authentication classes appear in the OpenAPI schema."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`Api-Key <key>`"}


class MFASessionScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.MFASessionAuthentication"
    name = "SessionAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid", "description": "Staff session with a verified second factor"}


class AppTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.AppTokenAuthentication"
    name = "AppSessionToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Session-Token",
                "description": "A patient's phone-app session token from /_allauth/app/v1/ (README, Patient app API)"}
