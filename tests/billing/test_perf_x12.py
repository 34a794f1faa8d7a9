"""The 271 reader's fast paths (issue 12, "Speed": bench/billing.py parses 10,000 answers)
give what the plain code gave: as_dict() is dataclasses.asdict's dict (same keys, same order,
amounts as strings), the positional Benefit(...) in the reader follows the field order, and
the cache of segment identifiers never lets a bad one through."""
import dataclasses
import datetime
import pathlib

import pytest

from apps.billing.clearinghouse.simulator import SimulatorClearinghouse
from apps.billing.x12 import Inquiry, Party, X12Error, build_270, parse_271
from apps.billing.x12.codes import COVERAGE_LEVELS, SERVICE_TYPES, TIME_PERIODS
from apps.billing.x12.reader import Benefit

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "x12"


def _reference(answer):
    """Eligibility.as_dict() as first written, on dataclasses.asdict."""
    def benefit(b):
        data = dataclasses.asdict(b)
        for key in ("amount", "percent", "quantity"):
            data[key] = None if data[key] is None else str(data[key])
        data["remaining"] = b.remaining
        data["service_type_names"] = [SERVICE_TYPES.get(s, s) for s in b.service_types]
        data["coverage_level_name"] = COVERAGE_LEVELS.get(b.coverage_level, b.coverage_level)
        data["time_period_name"] = TIME_PERIODS.get(b.time_period, b.time_period)
        return data
    return {
        "status": answer.status, "control_number": answer.control_number, "trace_number": answer.trace_number,
        "payer_name": answer.payer_name, "payer_id": answer.payer_id, "member_id": answer.member_id,
        "group_number": answer.group_number, "plan_dates": answer.plan_dates,
        "benefits": [benefit(b) for b in answer.benefits], "rejections": [dataclasses.asdict(r) for r in answer.rejections],
        "message": answer.message,
    }


def _simulated(member_id, dependent=False):
    inquiry = Inquiry(payer_name="Aetna", payer_id="60054", provider_name="Riverside Clinic", provider_npi="1234567893",
                      subscriber=Party("Doe", "Jane", datetime.date(1980, 2, 3), "F"), member_id=member_id,
                      group_number="G100", service_date=datetime.date(2026, 12, 5), trace_number="ELIG1",
                      patient=Party("Doe", "Lily", datetime.date(2015, 7, 4), "F") if dependent else None)
    return SimulatorClearinghouse().exchange(build_270(inquiry, interchange_number=7))


def _answers():
    texts = [path.read_text() for path in sorted(FIXTURES.glob("271_*.x12"))]
    texts += [_simulated(m) for m in ("W1", "HDHP1", "INACTIVE1", "NOTFOUND1", "BUSY1")] + [_simulated("W2", True)]
    return [answer for text in texts for answer in parse_271(text)]


def test_as_dict_is_what_dataclasses_asdict_gave_key_for_key_and_in_order():
    answers = _answers()

    assert len(answers) == 12 and sum(len(a.benefits) for a in answers) > 40
    for answer in answers:
        data, reference = answer.as_dict(), _reference(answer)
        assert data == reference
        assert [list(b) for b in data["benefits"]] == [list(b) for b in reference["benefits"]]
        assert [list(r) for r in data["rejections"]] == [list(r) for r in reference["rejections"]]


def test_as_dict_copies_the_lists_and_dates_so_the_stored_dict_is_its_own():
    answer = next(a for a in _answers() if any(b.dates and b.messages for b in a.benefits))
    benefit = next(b for b in answer.benefits if b.dates and b.messages)

    data = next(d for d in answer.as_dict()["benefits"] if d["dates"] and d["messages"])
    data["dates"]["x"] = "y"
    data["messages"].append("z")
    data["service_types"].append("zz")

    assert "x" not in benefit.dates and "z" not in benefit.messages and "zz" not in benefit.service_types


def test_the_reader_builds_benefits_in_the_field_order_it_relies_on():
    assert [f.name for f in dataclasses.fields(Benefit)][:12] == [
        "info", "label", "coverage_level", "service_types", "insurance_type", "plan", "time_period", "amount", "percent",
        "quantity", "authorization_required", "in_network"]
    [answer] = parse_271((FIXTURES / "271_active_copay.x12").read_text())
    copay = answer.find("B", "98")
    assert (copay.label, copay.coverage_level, copay.time_period, str(copay.amount), copay.in_network) == (
        "Co-payment", "IND", "27", "25", True)


@pytest.mark.parametrize("bad", ["XYZ1", "eb", "E", "EBXX", "É1"])
def test_a_bad_segment_identifier_is_refused_after_good_ones_were_read(bad):
    text = (FIXTURES / "271_active_copay.x12").read_text()
    for _ in range(3):
        parse_271(text)

    with pytest.raises(X12Error, match="Segment 4 has no valid segment identifier"):
        parse_271(text.replace("BHT*0022*11", f"{bad}*0022*11", 1))
