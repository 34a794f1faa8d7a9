"""X12 005010X279A1: the 270 built for a known patient compared segment by segment with a
fixture; the 271 reader on real-shaped answers and on malformed and hostile input."""
import datetime
import pathlib
from decimal import Decimal

import pytest

from apps.billing.x12 import Inquiry, Party, X12Error, build_270, parse_271

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "x12"
AT = datetime.datetime(2026, 12, 4, 15, 0)


def fixture(name):
    return (FIXTURES / name).read_text()


def segments(text):
    return [s.strip() for s in text.split("~") if s.strip()]


def jane(**overrides):
    values = dict(payer_name="Aetna", payer_id="60054", provider_name="Riverside Clinic", provider_npi="1234567893",
                  subscriber=Party("Doe", "Jane", datetime.date(1980, 2, 3), "F"), member_id="W123456789",
                  group_number="G100", service_date=datetime.date(2026, 12, 5), trace_number="ELIG000000017",
                  submitter_id="CLINICDEMO", originator_id="9123456789")
    values.update(overrides)
    return Inquiry(**values)


def test_the_270_for_a_known_patient_matches_the_fixture_segment_by_segment():
    built = build_270(jane(), interchange_number=17, at=AT, test=True)

    expected = segments(fixture("270_self.x12"))
    assert segments(built) == expected
    assert len(built.split("~")[0]) + 1 == 106  # the ISA is fixed width


def test_the_270_for_a_dependent_names_the_subscriber_and_the_patient_in_their_own_loops():
    inquiry = jane(payer_name="Cigna", payer_id="00431", member_id="U99887766", group_number="",
                   subscriber=Party("Doe", "John", datetime.date(1978, 5, 12)), trace_number="ELIG000000018",
                   patient=Party("Doe", "Lily", datetime.date(2015, 7, 4), "F"))

    built = build_270(inquiry, interchange_number=18, at=AT, test=True)

    assert segments(built) == segments(fixture("270_dependent.x12"))


def test_the_270_counts_its_segments_and_pairs_its_control_numbers():
    built = segments(build_270(jane(), interchange_number=123456789, group_number=42, transaction_number=7, at=AT))
    st = built.index(next(s for s in built if s.startswith("ST*")))
    se = next(s for s in built if s.startswith("SE*"))

    assert se == f"SE*{len(built) - 2 - st}*0007"
    assert built[0].split("*")[13] == "123456789" and built[-1] == "IEA*1*123456789"
    assert built[1].split("*")[6] == "42" and built[-2] == "GE*1*42"
    assert built[1].startswith("GS*HS*")


def test_names_with_delimiters_in_them_cannot_break_the_270():
    built = build_270(jane(subscriber=Party("O'Brien*~^:", "Ann\x00\n", datetime.date(1980, 2, 3))), interchange_number=1, at=AT)

    name = next(s for s in segments(built) if s.startswith("NM1*IL"))
    assert name == "NM1*IL*1*O'BRIEN*ANN****MI*W123456789"
    assert "\x00" not in built


def test_an_active_271_gives_copay_deductible_coinsurance_and_out_of_pocket_per_service_type():
    [answer] = parse_271(fixture("271_active_copay.x12"))

    assert answer.status == "ACTIVE"
    assert answer.trace_number == "ELIG000000017" and answer.member_id == "W123456789" and answer.group_number == "G100"
    copay = answer.find("B", "98")
    assert copay.amount == Decimal("25") and copay.in_network is True and copay.time_period == "27"
    assert copay.messages == ["PRIMARY CARE OFFICE VISIT"]
    assert answer.find("B", "98", in_network=False).amount == Decimal("50")
    deductible_left = answer.find("C", "98", remaining=True)
    assert deductible_left.amount == Decimal("650") and deductible_left.remaining
    assert deductible_left.dates == {"292": "2026-01-01/2026-12-31"}
    assert answer.find("C", "30", remaining=False).amount == Decimal("1500")
    assert answer.find("A", "2").percent == Decimal("0.2")
    assert answer.find("G", "30", remaining=True).amount == Decimal("3200")
    assert answer.authorization_required("2") is True and answer.authorization_required("98") is False
    assert answer.plan_dates == {"346": "2026-01-01"}
    active = answer.benefits[0]
    assert active.coverage_level == "FAM" and "98" in active.service_types and active.plan == "GOLD PPO 1500"


def test_a_high_deductible_271_has_no_copay_and_reads_the_coinsurance_as_a_fraction():
    [answer] = parse_271(fixture("271_deductible_coinsurance.x12"))

    assert answer.status == "ACTIVE"
    assert answer.find("B", "98") is None
    assert answer.find("C", "98", remaining=True).amount == Decimal("100")
    assert answer.find("A", "98").percent == Decimal("0.30")


def test_an_inactive_271_is_inactive_with_its_end_date():
    [answer] = parse_271(fixture("271_inactive.x12"))

    assert answer.status == "INACTIVE"
    assert answer.benefits[0].label == "Inactive" and answer.benefits[0].dates == {"347": "2026-10-31"}
    assert answer.benefits[0].messages == ["COVERAGE TERMINATED"]


def test_a_member_the_payer_cannot_find_is_a_rejection_in_words_with_no_benefits():
    [answer] = parse_271(fixture("271_member_not_found.x12"))

    assert answer.status == "REJECTED" and answer.benefits == []
    [rejection] = answer.rejections
    assert (rejection.level, rejection.code) == ("subscriber", "72")
    assert answer.message == "The member ID is invalid or missing: check the number on the insurance card. Correct and resubmit."


def test_a_payer_that_cannot_answer_now_says_to_try_later():
    [answer] = parse_271(fixture("271_payer_unavailable.x12"))

    assert answer.status == "REJECTED"
    assert answer.rejections[0].level == "payer" and answer.rejections[0].valid_request is True
    assert "Try again later" in answer.message


def test_the_reader_takes_the_delimiters_from_the_isa_and_splits_repeated_service_types():
    [answer] = parse_271(fixture("271_other_delimiters.x12"))

    assert answer.status == "ACTIVE" and answer.payer_name == "UNITEDHEALTHCARE"
    assert answer.benefits[0].service_types == ["30", "98", "UC"]
    assert answer.find("B", "UC").amount == Decimal("35")
    assert answer.find("B", "98", in_network=False).amount == Decimal("70")


def _broken(old, new, name="271_active_copay.x12"):
    text = fixture(name)
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("text, words", [
    ("", "must start with a 106-character ISA"),
    ("hello world" * 20, "must start with a 106-character ISA"),
    ("<html><body>502 Bad Gateway</body></html>" + " " * 100, "must start with a 106-character ISA"),
    (_broken("GS*HB*", "GS*HS*"), "GS01 must be HB"),
    (_broken("ST*271*", "ST*270*"), "ST01 must be 271"),
    (_broken("SE*27*", "SE*26*"), "SE01 says 26 segments, the transaction set has 27"),
    (_broken("SE*27*0001", "SE*27*0002"), "ST02 and SE02 differ"),
    (_broken("GE*1*17", "GE*1*18"), "GS06 and GE02 differ"),
    (_broken("IEA*1*000000017", "IEA*1*000000099"), "ISA13 and IEA02 differ"),
    (_broken("GE*1*17~\nIEA*1*000000017~\n", ""), "must start with ISA and end with IEA"),
    (_broken("EB*B*IND*98***27*25", "EB*B*IND*98***27*abc"), "An amount (EB07) is not a number"),
    (_broken("EB*B*IND*98***27*25", "EB*B*IND*98***27*-25"), "An amount (EB07) is negative"),
    (_broken("EB*B*IND*98***27*25", "EB*B*IND*98***27*1E+400"), "out of range"),
    (_broken("**.2****Y", "**20****Y"), "a fraction between 0 and 1"),
    (_broken("DTP*346*D8*20260101", "DTP*346*D8*20261341"), "not a valid CCYYMMDD date"),
    (_broken("DTP*346*D8*20260101", "DTP*346*D8*99999999"), "not a valid CCYYMMDD date"),
    (_broken("NM1*IL*1*DOE", "NM1*IL*1*D\x00OE"), "control characters (such as NUL)"),
    (_broken("HL*3*2*22*0", "HL*3*2*99*0"), "unknown level code"),
    (_broken("BHT*0022*11", "XYZ1*0022*11"), "no valid segment identifier"),
])
def test_malformed_or_hostile_271s_raise_a_clear_error(text, words):
    with pytest.raises(X12Error) as caught:
        parse_271(text)

    assert words in str(caught.value)
    assert "DOE" not in str(caught.value)  # no PHI in the message


def test_an_oversized_or_endless_271_is_refused_before_it_is_read():
    huge = fixture("271_active_copay.x12").replace("MSG*PRIMARY CARE OFFICE VISIT~", "MSG*X~" * 200_000)

    with pytest.raises(X12Error, match="longer than 1000000 characters"):
        parse_271(huge)
    with pytest.raises(X12Error, match="more than 100 segments"):
        parse_271(fixture("271_active_copay.x12").replace("MSG*PRIMARY CARE OFFICE VISIT~", "MSG*X~" * 100), max_segments=100)


def test_the_answer_as_stored_is_plain_json_with_amounts_as_strings():
    [answer] = parse_271(fixture("271_active_copay.x12"))

    data = answer.as_dict()

    copay = next(b for b in data["benefits"] if b["info"] == "B")
    assert copay["amount"] == "25" and copay["service_type_names"] == ["Professional (physician) visit - office"]
    assert data["status"] == "ACTIVE" and data["rejections"] == []
