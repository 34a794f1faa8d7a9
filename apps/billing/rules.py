"""Who may see and change the billing app's rows (core's access layer, apps/core/access.py).

Patients see their own issued invoices (never a DRAFT) and payments, and pay their own
invoices (404 for anyone else's, whatever the id). Billing staff see and work everything, after
their second factor; the front desk sees balances only (selectors.balance_for, by the
view_balance permission), no invoice or payment detail. Integrators' keys act by scope:
billing:read, billing:write (charges review, invoices issue/void, payments, refunds, coverages,
eligibility checks). A patient sees their own coverages (insurance cards) and eligibility
results; billing staff add, change and remove cards and run checks."""
from apps.billing.models import Charge, Coverage, EligibilityCheck, Invoice, Payment, ServiceCode
from apps.core import access

READ = "billing:read"
WRITE = "billing:write"
ISSUE, PAY, REFUND, BALANCE, CHECK = "issue", "pay", "refund", "balance", "check"


def _own(queryset, patient):
    return queryset.filter(patient=patient)


def register():
    access.register(
        ServiceCode,
        perms={access.VIEW: "billing.view_servicecode", access.CHANGE: "billing.change_servicecode"},
        scopes={access.VIEW: READ},
    )
    access.register(
        Charge,
        perms={access.VIEW: "billing.view_charge", access.CHANGE: "billing.review_charge"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE},
        patient_actions=(),
    )
    access.register(
        Invoice,
        own=lambda queryset, patient: queryset.filter(patient=patient).exclude(status=Invoice.Status.DRAFT),
        perms={access.VIEW: "billing.view_invoice", access.CHANGE: "billing.change_invoice", ISSUE: "billing.issue_invoice",
               PAY: "billing.add_payment", BALANCE: "billing.view_balance"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE, ISSUE: WRITE, PAY: WRITE, BALANCE: READ},
        patient_actions=(access.VIEW, PAY, BALANCE),
    )
    access.register(
        Payment,
        own=_own,
        perms={access.VIEW: "billing.view_payment", REFUND: "billing.refund_payment"},
        scopes={access.VIEW: READ, REFUND: WRITE},
        patient_actions=(access.VIEW,),
    )
    access.register(
        Coverage,
        own=lambda queryset, patient: queryset.filter(patient=patient, is_active=True),
        perms={access.VIEW: "billing.view_coverage", access.CHANGE: "billing.change_coverage", CHECK: "billing.add_eligibilitycheck"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE, CHECK: WRITE},
        patient_actions=(access.VIEW,),
    )
    access.register(
        EligibilityCheck,
        own=_own,
        perms={access.VIEW: "billing.view_eligibilitycheck"},
        scopes={access.VIEW: READ},
        patient_actions=(access.VIEW,),
    )
