"""X12 005010X279A1 eligibility: a builder of 270 inquiries (builder.py) and a reader of 271
answers (reader.py), pure functions with no database and no transport. No maintained Python
library reads and writes 270/271 in 5010 (pyx12 lacks the maps), so these are our own, tested
on fixtures shaped like real payers' files (tests/billing/fixtures/x12/).

The clearinghouse that carries them is elsewhere (apps/billing/clearinghouse/)."""
from apps.billing.x12.builder import Inquiry, Party, build_270
from apps.billing.x12.codes import (
    COVERAGE_LEVELS, ELIGIBILITY_INFO, FOLLOW_UP_ACTIONS, REJECTION_REASONS, SERVICE_TYPES, TIME_PERIODS,
)
from apps.billing.x12.reader import Benefit, Eligibility, Rejection, X12Error, parse_271
from apps.billing.x12.segments import Delimiters

__all__ = [
    "Inquiry", "Party", "build_270", "COVERAGE_LEVELS", "ELIGIBILITY_INFO", "FOLLOW_UP_ACTIONS", "REJECTION_REASONS",
    "SERVICE_TYPES", "TIME_PERIODS", "Benefit", "Eligibility", "Rejection", "X12Error", "parse_271", "Delimiters",
]
