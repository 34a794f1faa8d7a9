"""The staff consents pages (/staff/surgery/): plans (plans.py), consents (consents.py), cases,
theatre and lot trace (cases.py). MFA is enforced by the /staff/ middleware and staff_required;
every page that shows patient data writes audit rows; a service's refusal redraws the page
with its message, status and code (core.pages); no view catches a domain error."""
