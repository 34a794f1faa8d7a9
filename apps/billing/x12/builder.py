"""The 270 eligibility inquiry (005010X279A1), built from plain values:

    ISA  interchange header (fixed width; control number ISA13 = IEA02)
    GS   functional group HS (control number GS06 = GE02)
    ST   270 transaction set (ST02 = SE02), BHT 0022/13 (request)
    HL 20 information source (the payer): NM1*PR with the payer id (PI)
    HL 21 information receiver (the clinic): NM1*1P with its NPI (XX)
    HL 22 subscriber: TRN (our trace), NM1*IL with the member id (MI), REF*6P group, DMG, DTP*291, EQ
    HL 23 dependent (only when the patient is not the subscriber): TRN, NM1*03, DMG, DTP*291, EQ
    SE   segment count from ST to SE inclusive, GE, IEA

Names are upper-cased and stripped of delimiters; the segment terminator is '~' with a newline
after it only when `pretty` (some clearinghouses refuse newlines)."""
import datetime
from dataclasses import dataclass, field

from apps.billing.x12.segments import DEFAULT, clean_element, write_segment

IMPLEMENTATION = "005010X279A1"


@dataclass(frozen=True)
class Party:
    """A person: last and first name, date of birth, sex (M, F or empty)."""

    last_name: str
    first_name: str
    date_of_birth: datetime.date | None = None
    sex: str = ""


@dataclass(frozen=True)
class Inquiry:
    """What a 270 asks: for the `subscriber` with `member_id` at the payer (and the `patient`,
    when not the subscriber), the benefits of `service_types` on `service_date`."""

    payer_name: str
    payer_id: str
    provider_name: str
    provider_npi: str
    subscriber: Party
    member_id: str
    service_date: datetime.date
    service_types: tuple = ("30",)
    group_number: str = ""
    patient: Party | None = None  # None: the patient is the subscriber
    trace_number: str = ""
    submitter_id: str = ""
    receiver_id: str = ""
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    originator_id: str = ""  # TRN03: "9" + a 9-character id of the clinic
    extra: dict = field(default_factory=dict)


def _fixed(value, width):
    return clean_element(value)[:width].ljust(width)


def _person(entity, party, member_id=""):
    name = ["NM1", entity, "1", clean_element(party.last_name)[:60], clean_element(party.first_name)[:35], "", "", ""]
    if member_id:
        name += ["MI", clean_element(member_id)[:80]]
    return name


def _demographics(party):
    if party.date_of_birth is None:
        return []
    return [["DMG", "D8", party.date_of_birth.strftime("%Y%m%d"), party.sex if party.sex in ("M", "F") else ""]]


def build_270(inquiry, *, interchange_number, group_number=None, transaction_number=1, at=None, test=False,
              delimiters=DEFAULT, pretty=False):
    """The 270 for `inquiry` as text. `interchange_number` (1..999999999) goes in ISA13/IEA02,
    `group_number` (default: the same) in GS06/GE02, `transaction_number` in ST02/SE02 (4 digits
    or more); `at` (an aware or naive datetime) stamps ISA09/10, GS04/05 and BHT04/05."""
    if not 1 <= interchange_number <= 999_999_999:
        raise ValueError("The interchange control number is 1 to 999999999.")
    group_number = interchange_number if group_number is None else group_number
    at = at or datetime.datetime.now(datetime.UTC)
    st02 = f"{transaction_number:04d}"
    sender = clean_element(inquiry.submitter_id or inquiry.provider_npi)
    receiver = clean_element(inquiry.receiver_id or inquiry.payer_id)
    d = delimiters
    isa = d.element.join([
        "ISA", "00", " " * 10, "00", " " * 10, inquiry.sender_qualifier, _fixed(sender, 15), inquiry.receiver_qualifier,
        _fixed(receiver, 15), at.strftime("%y%m%d"), at.strftime("%H%M"), d.repetition, "00501", f"{interchange_number:09d}",
        "0", "T" if test else "P", d.component,
    ]) + d.segment
    body = [
        ["ST", "270", st02, IMPLEMENTATION],
        ["BHT", "0022", "13", clean_element(inquiry.trace_number or st02)[:50], at.strftime("%Y%m%d"), at.strftime("%H%M")],
        ["HL", "1", "", "20", "1"],
        ["NM1", "PR", "2", clean_element(inquiry.payer_name)[:60], "", "", "", "", "PI", clean_element(inquiry.payer_id)[:80]],
        ["HL", "2", "1", "21", "1"],
        ["NM1", "1P", "2", clean_element(inquiry.provider_name)[:60], "", "", "", "", "XX", clean_element(inquiry.provider_npi)[:80]],
        ["HL", "3", "2", "22", "1" if inquiry.patient else "0"],
    ]
    trace = ["TRN", "1", clean_element(inquiry.trace_number or st02)[:50], clean_element(inquiry.originator_id)[:10]]
    service = [
        ["DTP", "291", "D8", inquiry.service_date.strftime("%Y%m%d")],
        ["EQ", d.repetition.join(clean_element(s) for s in inquiry.service_types)],
    ]
    subscriber = _person("IL", inquiry.subscriber, inquiry.member_id)
    group = [["REF", "6P", clean_element(inquiry.group_number)[:50]]] if inquiry.group_number else []
    if inquiry.patient is None:
        body += [trace, subscriber, *group, *_demographics(inquiry.subscriber), *service]
    else:
        body += [subscriber, *group, *_demographics(inquiry.subscriber),
                 ["HL", "4", "3", "23", "0"], trace, _person("03", inquiry.patient), *_demographics(inquiry.patient), *service]
    count = len(body) + 1
    body.append(["SE", str(count), st02])
    segments = [isa, write_segment(["GS", "HS", sender, receiver, at.strftime("%Y%m%d"), at.strftime("%H%M"), str(group_number),
                                    "X", IMPLEMENTATION], d)]
    segments += [write_segment(s, d) for s in body]
    segments.append(write_segment(["GE", "1", str(group_number)], d))
    segments.append(write_segment(["IEA", "1", f"{interchange_number:09d}"], d))
    return ("\n" if pretty else "").join(segments) + ("\n" if pretty else "")
