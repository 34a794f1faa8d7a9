"""The billing permissions of each staff role, added to accounts' role table from
AppConfig.ready() (before post_migrate and seed_demo call ensure_roles).

Billing staff run everything billing: the fee schedule, charge review, invoices, payments at
the desk, refunds. The front desk sees balances only (to tell a patient what they owe). Admins
have it all, including the fee schedule and visit-type codes."""
from apps.accounts.roles import BILLING, CLINIC_ADMIN, FRONT_DESK, ROLE_PERMISSIONS

_BILLING = [
    "billing.view_servicecode", "billing.add_servicecode", "billing.change_servicecode",
    "billing.view_visittypecode", "billing.add_visittypecode", "billing.change_visittypecode", "billing.delete_visittypecode",
    "billing.view_charge", "billing.review_charge",
    "billing.view_invoice", "billing.add_invoice", "billing.change_invoice", "billing.issue_invoice", "billing.view_balance",
    "billing.view_payment", "billing.add_payment", "billing.refund_payment",
    "billing.view_payer", "billing.add_payer", "billing.change_payer",
    "billing.view_coverage", "billing.add_coverage", "billing.change_coverage",
    "billing.view_eligibilitycheck", "billing.add_eligibilitycheck",
    "billing.view_deposit", "billing.add_deposit", "billing.change_deposit",
]
BILLING_ROLE_PERMISSIONS = {
    BILLING: _BILLING,
    FRONT_DESK: ["billing.view_balance"],
    CLINIC_ADMIN: _BILLING,
}


def extend_role_permissions():
    """Add this app's permissions to accounts' role table (idempotent: ready() may run twice)."""
    for role, perms in BILLING_ROLE_PERMISSIONS.items():
        current = ROLE_PERMISSIONS[role]
        ROLE_PERMISSIONS[role] = current + [p for p in perms if p not in current]
