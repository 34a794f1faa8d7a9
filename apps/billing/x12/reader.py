"""The 271 eligibility answer (005010X279A1) read into plain values.

The envelope is checked first (ISA/IEA control numbers, GS01 HB, ST 271 and SE01 = the number
of segments from ST to SE inclusive, GE/IEA counts); anything else is an X12Error that says
what is wrong, and nothing is read from it. Then, per transaction:

- AAA segments (at the payer, provider, subscriber or dependent level) become Rejections with
  the reason (AAA03) and the follow-up (AAA04) in words. A member the payer cannot find is
  `AAA*N**72*C` at 2100C and carries no EB segment.
- EB segments become Benefits: EB01 what it is (1 active ... 6 inactive, A coinsurance, B copay,
  C deductible, G out of pocket, ...), EB02 coverage level, EB03 service types (repeated with
  the ISA11 separator), EB06 time period (29 remaining), EB07 amount, EB08 coinsurance as a
  decimal fraction (.20 is 20%), EB11 prior authorisation, EB12 in network. MSG and the
  DTP/REF that follow an EB belong to it.

Eligibility.status: ACTIVE (an EB01 of 1-5), INACTIVE (6-8 and no active), REJECTED (an AAA and
no EB) or UNKNOWN. Money is Decimal; nothing here is a float."""
import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from apps.billing.x12.codes import (
    ACTIVE_CODES, COVERAGE_LEVELS, ELIGIBILITY_INFO, FOLLOW_UP_ACTIONS, INACTIVE_CODES, LEVEL_NAMES, REJECTION_REASONS,
    REMAINING_PERIODS, SERVICE_TYPES, TIME_PERIODS,
)
from apps.billing.x12.segments import X12Error, element, split_segments

__all__ = ["Benefit", "Eligibility", "Rejection", "X12Error", "parse_271"]

MAX_LENGTH = 1_000_000
MAX_SEGMENTS = 20_000
MAX_AMOUNT = Decimal("9999999999.99")

ACTIVE, INACTIVE, REJECTED, UNKNOWN = "ACTIVE", "INACTIVE", "REJECTED", "UNKNOWN"


@dataclass
class Rejection:
    level: str  # payer, provider, subscriber, dependent
    code: str
    message: str
    follow_up: str = ""
    valid_request: bool = False


@dataclass
class Benefit:
    info: str
    label: str
    coverage_level: str = ""
    service_types: list = field(default_factory=list)
    insurance_type: str = ""
    plan: str = ""
    time_period: str = ""
    amount: Decimal | None = None
    percent: Decimal | None = None
    quantity: Decimal | None = None
    authorization_required: bool | None = None
    in_network: bool | None = None  # None: not said, or applies both in and out (W)
    messages: list = field(default_factory=list)
    dates: dict = field(default_factory=dict)

    @property
    def remaining(self):
        return self.time_period in REMAINING_PERIODS

    def as_dict(self):
        """The fields in their order (what dataclasses.asdict gives: __init__ sets them in that
        order), amounts as strings, then remaining and the codes in words. Not asdict itself:
        its recursive deep copy cost 4x the whole parse; the values here are strings, and lists
        and dicts of strings, copied one level."""
        data = self.__dict__.copy()
        for key in ("amount", "percent", "quantity"):
            if data[key] is not None:
                data[key] = str(data[key])
        services, period, level = data["service_types"], data["time_period"], data["coverage_level"]
        data["service_types"] = services[:]
        data["messages"] = data["messages"][:]
        data["dates"] = data["dates"].copy()
        data["remaining"] = period in REMAINING_PERIODS
        data["service_type_names"] = [SERVICE_TYPES.get(s, s) for s in services]
        data["coverage_level_name"] = COVERAGE_LEVELS.get(level, level)
        data["time_period_name"] = TIME_PERIODS.get(period, period)
        return data


@dataclass
class Eligibility:
    status: str
    control_number: str = ""
    trace_number: str = ""
    payer_name: str = ""
    payer_id: str = ""
    member_id: str = ""
    group_number: str = ""
    plan_dates: dict = field(default_factory=dict)
    benefits: list = field(default_factory=list)
    rejections: list = field(default_factory=list)

    @property
    def message(self):
        """The rejections in words, or "" when there is none."""
        return " ".join(r.message + (f" {r.follow_up}" if r.follow_up else "") for r in self.rejections)

    def find(self, info, service_type="30", *, in_network=True, coverage_level=None, remaining=None):
        """The first benefit of kind `info` (A, B, C, G, ...) for `service_type` (falling back to
        the plan-wide 30 and to a benefit with no service type), preferring in network."""
        candidates = [b for b in self.benefits if b.info == info]
        if coverage_level is not None:
            candidates = [b for b in candidates if b.coverage_level in ("", coverage_level)]
        if remaining is not None:
            candidates = [b for b in candidates if b.remaining == remaining]
        for wanted in dict.fromkeys((service_type, "30", None)):
            matches = [b for b in candidates if (wanted in b.service_types if wanted else not b.service_types)]
            for network in (in_network, None, not in_network):
                for benefit in matches:
                    if benefit.in_network is network:
                        return benefit
        return None

    def authorization_required(self, service_type):
        return any(b.authorization_required for b in self.benefits if service_type in b.service_types)

    def as_dict(self):
        return {
            "status": self.status, "control_number": self.control_number, "trace_number": self.trace_number,
            "payer_name": self.payer_name, "payer_id": self.payer_id, "member_id": self.member_id,
            "group_number": self.group_number, "plan_dates": self.plan_dates,
            "benefits": [b.as_dict() for b in self.benefits],
            "rejections": [{"level": r.level, "code": r.code, "message": r.message, "follow_up": r.follow_up,
                            "valid_request": r.valid_request} for r in self.rejections],
            "message": self.message,
        }


def _decimal(value, what, *, places=2):
    if value == "":
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise X12Error(f"{what} is not a number.") from None
    if not number.is_finite() or abs(number) > MAX_AMOUNT:
        raise X12Error(f"{what} is out of range.")
    return number


_FLAGS = {"Y": True, "N": False}
_EMPTY_EB = [""] * 12


def _one_date(text):
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        raise X12Error("A date in the answer is not a valid CCYYMMDD date.") from None


def _date(qualifier, value):
    """A DTP value: D8 CCYYMMDD or RD8 CCYYMMDD-CCYYMMDD, as ISO strings."""
    if qualifier == "D8":
        return _one_date(value)
    if qualifier == "RD8" and value.count("-") == 1:
        start, end = value.split("-")
        return f"{_one_date(start)}/{_one_date(end)}"
    raise X12Error("A date in the answer has an unknown format.")


def _check_envelope(segments):
    if segments[0][0] != "ISA" or segments[-1][0] != "IEA":
        raise X12Error("The interchange must start with ISA and end with IEA.")
    isa, iea = segments[0][1], segments[-1][1]
    if element(iea, 2) != element(isa, 13):
        raise X12Error("The interchange control numbers of ISA13 and IEA02 differ.")
    groups = [i for i, (sid, _) in enumerate(segments) if sid == "GS"]
    if not groups:
        raise X12Error("The interchange holds no functional group (GS).")
    if element(iea, 1) != str(len(groups)):
        raise X12Error("IEA01 does not match the number of functional groups.")



_ENVELOPE = frozenset(("GS", "GE", "ST", "SE"))


def _transactions(segments):
    """Yield (ST elements, segments inside ST..SE) after checking GS/GE and ST/SE."""
    group = None
    transaction = None
    body = None
    count = 0
    for segment in segments[1:-1]:
        sid, el = segment
        if body is not None and sid not in _ENVELOPE:
            # Most segments: inside a transaction set (checked first; the envelope's own
            # segments go on to their checks below, as before).
            body.append(segment)
        elif sid == "GS":
            if group is not None:
                raise X12Error("A functional group (GS) is not closed by GE.")
            if element(el, 1) != "HB":
                raise X12Error("This is not an eligibility answer: GS01 must be HB (271).")
            group, count = el, 0
        elif sid == "GE":
            if group is None or transaction is not None:
                raise X12Error("GE closes no functional group.")
            if element(el, 2) != element(group, 6):
                raise X12Error("The group control numbers of GS06 and GE02 differ.")
            if element(el, 1) != str(count):
                raise X12Error("GE01 does not match the number of transaction sets.")
            group = None
        elif sid == "ST":
            if group is None or transaction is not None:
                raise X12Error("A transaction set (ST) is outside a functional group or not closed by SE.")
            if element(el, 1) != "271":
                raise X12Error("This is not an eligibility answer: ST01 must be 271.")
            transaction = (el, [])
            body = transaction[1]
        elif sid == "SE":
            if transaction is None:
                raise X12Error("SE closes no transaction set.")
            st = transaction[0]
            if element(el, 2) != element(st, 2):
                raise X12Error("The transaction control numbers of ST02 and SE02 differ.")
            if element(el, 1) != str(len(body) + 2):
                raise X12Error(f"SE01 says {element(el, 1) or 'nothing'} segments, the transaction set has {len(body) + 2}.")
            count += 1
            done, transaction, body = body, None, None
            yield st, done
        else:
            raise X12Error(f"Segment {sid} is outside a transaction set.")
    if group is not None or transaction is not None:
        raise X12Error("The interchange ends inside a functional group or transaction set.")


def _read_transaction(st, body, repetition):
    result = Eligibility(status=UNKNOWN, control_number=element(st, 2))
    if not body or body[0][0] != "BHT":
        raise X12Error("The transaction set must begin with BHT.")
    level = ""
    current = None  # the Benefit that MSG/DTP/REF after an EB belong to
    benefits = result.benefits
    for sid, el in body[1:]:
        if sid == "EB":
            # Padded once: EB has 12 positions we read and most are empty (cheaper than 13 lookups).
            (info, level_code, services, insurance_type, plan, period, amount, percent, _, quantity, auth,
             network) = (el + _EMPTY_EB)[:12]
            if not info:
                raise X12Error("An EB segment has no EB01 (eligibility or benefit code).")
            if not repetition:
                services = [services]
            elif repetition in services:
                services = [s for s in services.split(repetition) if s]
            else:
                services = [services] if services else []
            # Most EB08/EB07/EB10 are empty: _decimal (None for "") only for the others.
            percent = _decimal(percent, "A coinsurance (EB08)") if percent else None
            if percent is not None and not 0 <= percent <= 1:
                raise X12Error("A coinsurance (EB08) must be a fraction between 0 and 1 (.20 is 20%).")
            amount = _decimal(amount, "An amount (EB07)") if amount else None
            if amount is not None and amount < 0:
                raise X12Error("An amount (EB07) is negative.")
            # Positional, in Benefit's field order (half the cost of keywords, 13 times an answer):
            # info, label, coverage_level, service_types, insurance_type, plan, time_period,
            # amount, percent, quantity, authorization_required, in_network.
            current = Benefit(
                info, ELIGIBILITY_INFO.get(info, info), level_code, services, insurance_type, plan, period, amount, percent,
                _decimal(quantity, "A quantity (EB10)") if quantity else None, _FLAGS.get(auth), _FLAGS.get(network))
            benefits.append(current)
        elif sid == "HL":
            level = LEVEL_NAMES.get(element(el, 3), "")
            if not level:
                raise X12Error("An HL segment has an unknown level code (HL03).")
            current = None
        elif sid == "AAA":
            code = element(el, 3)
            result.rejections.append(Rejection(
                level=level or "payer", code=code,
                message=REJECTION_REASONS.get(code, f"The payer rejected the request (reason {code or 'not given'})."),
                follow_up=FOLLOW_UP_ACTIONS.get(element(el, 4), ""), valid_request=element(el, 1) == "Y"))
        elif sid == "NM1":
            current = None
            if element(el, 1) == "PR":
                result.payer_name, result.payer_id = element(el, 3), element(el, 9)
            elif element(el, 1) == "IL" and element(el, 8) == "MI":
                result.member_id = element(el, 9)
        elif sid == "TRN" and level in ("subscriber", "dependent") and element(el, 1) == "2":
            result.trace_number = element(el, 2)
        elif sid == "REF" and current is None and element(el, 1) == "6P":
            result.group_number = element(el, 2)
        elif sid == "DTP":
            value = _date(element(el, 2), element(el, 3))
            if current is not None:
                current.dates[element(el, 1)] = value
            else:
                result.plan_dates[element(el, 1)] = value
        elif sid == "MSG" and current is not None:
            current.messages.append(element(el, 1)[:264])
    infos = {b.info for b in benefits}
    if infos & ACTIVE_CODES:
        result.status = ACTIVE
    elif infos & INACTIVE_CODES:
        result.status = INACTIVE
    elif result.rejections:
        result.status = REJECTED
    return result


def parse_271(text, *, max_length=MAX_LENGTH, max_segments=MAX_SEGMENTS):
    """The eligibility answers in the 271 interchange `text`, one per transaction set (most
    interchanges hold one). X12Error for anything malformed."""
    segments, delimiters = split_segments(text, max_length=max_length, max_segments=max_segments)
    if len(segments) < 2:
        raise X12Error("The interchange is incomplete.")
    _check_envelope(segments)
    answers = [_read_transaction(st, body, delimiters.repetition) for st, body in _transactions(segments)]
    if not answers:
        raise X12Error("The interchange holds no 271 transaction set.")
    return answers
