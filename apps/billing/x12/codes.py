"""The code lists of 005010X279A1 that the reader turns into words (the subset payers send in
practice; an unknown code is shown as itself, never an error)."""

# EB01: eligibility or benefit information.
ELIGIBILITY_INFO = {
    "1": "Active coverage", "2": "Active - full risk capitation", "3": "Active - services capitated",
    "4": "Active - services capitated to primary care physician", "5": "Active - pending investigation",
    "6": "Inactive", "7": "Inactive - pending eligibility update", "8": "Inactive - pending investigation",
    "A": "Co-insurance", "B": "Co-payment", "C": "Deductible", "CB": "Coverage basis", "D": "Benefit description",
    "E": "Exclusions", "F": "Limitations", "G": "Out of pocket (stop loss)", "H": "Unlimited", "I": "Non-covered",
    "J": "Cost containment", "K": "Reserve", "L": "Primary care provider", "M": "Pre-existing condition",
    "MC": "Managed care coordinator", "N": "Services restricted to following provider",
    "O": "Not deemed a medical necessity", "P": "Benefit disclaimer", "Q": "Second surgical opinion required",
    "R": "Other or additional payer", "S": "Prior year(s) history", "T": "Card reported lost/stolen",
    "U": "Contact following entity for eligibility or benefit information", "V": "Cannot process",
    "W": "Other source of data", "X": "Health care facility", "Y": "Spend down",
}
ACTIVE_CODES = {"1", "2", "3", "4", "5"}
INACTIVE_CODES = {"6", "7", "8"}

# EB02: coverage level.
COVERAGE_LEVELS = {
    "CHD": "Children only", "DEP": "Dependents only", "ECH": "Employee and children", "EMP": "Employee only",
    "ESP": "Employee and spouse", "FAM": "Family", "IND": "Individual", "SPC": "Spouse and children", "SPO": "Spouse only",
}

# EB03 / EQ01: service type (the common ones).
SERVICE_TYPES = {
    "1": "Medical care", "2": "Surgical", "4": "Diagnostic X-ray", "5": "Diagnostic lab", "7": "Anesthesia",
    "20": "Second surgical opinion", "30": "Health benefit plan coverage", "33": "Chiropractic", "35": "Dental care",
    "42": "Home health care", "47": "Hospital", "48": "Hospital - inpatient", "50": "Hospital - outpatient",
    "51": "Hospital - emergency accident", "52": "Hospital - emergency medical", "53": "Hospital - ambulatory surgical",
    "86": "Emergency services", "88": "Pharmacy", "98": "Professional (physician) visit - office",
    "A4": "Psychiatric", "AL": "Vision (optometry)", "BZ": "Physician visit - office: well",
    "MH": "Mental health", "UC": "Urgent care",
}

# EB06: time period qualifier.
TIME_PERIODS = {
    "6": "Hour", "7": "Day", "13": "24 hours", "21": "Years", "22": "Service year", "23": "Calendar year",
    "24": "Year to date", "25": "Contract", "26": "Episode", "27": "Visit", "28": "Outlier", "29": "Remaining",
    "30": "Exceeded", "31": "Not exceeded", "32": "Lifetime", "33": "Lifetime remaining", "34": "Month", "35": "Week",
    "36": "Admission",
}
# Time periods that say the amount is what is left, not the plan's figure.
REMAINING_PERIODS = {"29", "33"}

# AAA03: why the request (or a part of it) was rejected, in words a front desk can act on.
REJECTION_REASONS = {
    "04": "Authorized quantity exceeded.",
    "15": "Required application data missing.",
    "41": "Authorization or access restrictions: the payer does not answer this submitter.",
    "42": "The payer cannot answer at the moment. Try again later.",
    "43": "The provider's identification (NPI) is invalid or missing.",
    "44": "The provider's name is invalid or missing.",
    "45": "The provider's specialty is invalid or missing.",
    "47": "The provider's state is invalid or missing.",
    "48": "The referring provider's identification is invalid or missing.",
    "49": "The provider is not the patient's primary care physician.",
    "50": "The provider is not eligible to make inquiries to this payer.",
    "51": "The provider is not on file with the payer.",
    "52": "The service dates are not within the provider's plan enrollment.",
    "53": "The inquired benefit is inconsistent with the provider type.",
    "54": "Inappropriate product or service ID qualifier.",
    "55": "Inappropriate product or service ID.",
    "56": "Inappropriate date.",
    "57": "The date of service is invalid or missing.",
    "58": "The date of birth is invalid or missing.",
    "60": "The date of birth follows the date of service.",
    "61": "The date of death precedes the date of service.",
    "62": "The date of service is not within the allowable inquiry period.",
    "63": "The date of service is in the future.",
    "64": "The patient's ID is invalid or missing.",
    "65": "The patient's name is invalid or missing.",
    "66": "The patient's gender is invalid or missing.",
    "67": "The payer did not find the patient.",
    "68": "Duplicate patient ID number.",
    "69": "Inconsistent with the patient's age.",
    "70": "Inconsistent with the patient's gender.",
    "71": "The patient's date of birth does not match the payer's records.",
    "72": "The member ID is invalid or missing: check the number on the insurance card.",
    "73": "The subscriber's name is invalid or missing.",
    "74": "The subscriber's gender is invalid or missing.",
    "75": "The payer did not find the subscriber.",
    "76": "Duplicate subscriber ID number.",
    "77": "The subscriber was found, the patient was not.",
    "78": "The subscriber is not in the group or plan identified.",
    "79": "Invalid participant identification.",
    "80": "No response received: the transaction was terminated.",
    "97": "The provider's address is invalid or missing.",
    "T4": "The payer's name or identifier is missing.",
    "AA": "Authorization number not found.",
    "AE": "Requires primary care physician authorization.",
    "AF": "Diagnosis code(s) invalid or missing.",
    "AG": "Procedure code(s) invalid or missing.",
    "AO": "Additional patient condition information required.",
    "CI": "Certification information does not match the patient.",
    "E8": "Requires medical review.",
    "IA": "Invalid authorization number format.",
    "MA": "Missing authorization number.",
}

# AAA04: what the payer says to do next.
FOLLOW_UP_ACTIONS = {
    "C": "Correct and resubmit.", "N": "Resubmission not allowed.", "P": "Resubmit the original transaction.",
    "R": "Resubmission allowed.", "S": "Do not resubmit; the payer asked a third party.",
    "W": "Wait 30 days and resubmit.", "X": "Wait 10 days and resubmit.", "Y": "Do not resubmit; the payer will answer.",
}

# HL03: hierarchical level codes.
LEVEL_SOURCE, LEVEL_RECEIVER, LEVEL_SUBSCRIBER, LEVEL_DEPENDENT = "20", "21", "22", "23"
LEVEL_NAMES = {"20": "payer", "21": "provider", "22": "subscriber", "23": "dependent"}

# INS02 / relationship of the patient to the subscriber (2000D).
RELATIONSHIPS = {"18": "Self", "01": "Spouse", "19": "Child", "G8": "Other relationship"}
