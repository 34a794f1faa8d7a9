"""Scopes an integrator API key can hold. Each API view names the scope it needs."""

SCOPES = {
    "patients:read": "Read patient records",
    "patients:write": "Create and update patient records",
    "audit:read": "Read the access log",
}
