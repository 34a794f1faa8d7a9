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

SCOPES.update({
    "fhir:read": "Read the FHIR R4 API (/fhir/R4/): patients, practitioners, schedules, slots, appointments, encounters and released clinical records",
})

SCOPES.update({
    "records:read": "Read problems, allergies, medications, refill requests, signed visit notes, lab results and documents",
    "records:write": "Keep problems, allergies and medications, create and release lab results, upload and share documents",
})

SCOPES.update({
    "telehealth:read": "Read video sessions, their waiting-room entries and the virtual queue",
    "telehealth:write": "End video sessions and mark technical issues",
})

SCOPES.update({
    "billing:read": "Read the fee schedule, charges, invoices, payments and patients' balances",
    "billing:write": "Review charges, draft, issue and void invoices, take payments and refunds",
})
