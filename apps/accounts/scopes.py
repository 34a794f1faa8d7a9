"""Scopes an integrator API key can hold. Each API view names the scope it needs."""

SCOPES = {
    "patients:read": "Read patient records",
    "patients:write": "Create and update patient records",
    "audit:read": "Read the access log",
}

SCOPES.update({
    "scheduling:read": "Read providers, visit types, free slots, visit requests and visits",
    "scheduling:write": "Book and change visits, create and handle visit requests, manage slots",
})

SCOPES.update({
    "messaging:read": "Read secure message threads and patients' notification preferences",
    "messaging:write": "Start threads, post messages, and change patients' notification preferences",
})

SCOPES.update({
    "consents:read": "Read procedure plans, consent templates, consents (and verify them), surgical cases and workflows",
    "consents:write": "Create and move procedure plans, send and revoke consents, create and run surgical cases",
})
