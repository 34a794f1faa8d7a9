"""The built-in clearinghouse: answers a 270 with a realistic 271, no network. What it answers
depends on the member id on the inquiry (documented in the README, like the test gateway's cards):

    starts with NOTFOUND   AAA*N**72*C at the subscriber: the payer cannot find the member
    starts with INACTIVE   EB*6: coverage ended (with the plan's end date)
    starts with BUSY       AAA*Y**42*P at the payer: cannot answer now, try later
    starts with HDHP       active, no copay: deductible $3000 ($2100 left), then 20% coinsurance
    anything else          active: office visit copay $25 (specialist $40), deductible $1500
                           ($650 left), 20% coinsurance, out of pocket $5000 ($3200 left),
                           surgery needs prior authorisation

The answer echoes the inquiry's control numbers, trace, payer, provider and member."""
import datetime

from django.utils import timezone

from apps.billing.clearinghouse import Clearinghouse, ClearinghouseUnavailable
from apps.billing.x12.segments import DEFAULT, X12Error, element, split_segments, write_segment


def _inquiry_fields(text):
    try:
        segments, _ = split_segments(text, max_length=100_000, max_segments=200)
    except X12Error as exc:
        raise ClearinghouseUnavailable(f"The simulator could not read the inquiry: {exc}") from None
    found = {"isa": None, "gs": None, "st": None, "payer": None, "provider": None, "subscriber": None, "trace": None,
             "patient": None, "ref": None}
    for sid, el in segments:
        if sid == "ISA":
            found["isa"] = el
        elif sid == "GS":
            found["gs"] = el
        elif sid == "ST":
            found["st"] = el
        elif sid == "NM1":
            found[{"PR": "payer", "1P": "provider", "IL": "subscriber", "03": "patient"}.get(element(el, 1), "other")] = el
        elif sid == "TRN":
            found["trace"] = el
        elif sid == "REF" and element(el, 1) == "6P":
            found["ref"] = el
    if not all(found[k] for k in ("isa", "gs", "st", "payer", "provider", "subscriber")):
        raise ClearinghouseUnavailable("The simulator could not read the inquiry: a required segment is missing.")
    return found


def _benefits(member_id, today):
    year_start, year_end = f"{today.year}0101", f"{today.year}1231"
    if member_id.startswith("INACTIVE"):
        ended = (today.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y%m%d")
        return [["EB", "6", "IND", "30", "PR", "GOLD PPO 1500"], ["DTP", "347", "D8", ended],
                ["MSG", "COVERAGE TERMINATED"]]
    if member_id.startswith("HDHP"):
        return [
            ["EB", "1", "IND", "30", "HN", "BRONZE HSA 3000"], ["DTP", "346", "D8", year_start],
            ["EB", "C", "IND", "30", "", "", "23", "3000"],
            ["EB", "C", "IND", "30", "", "", "29", "2100", "", "", "", "", "Y"],
            ["EB", "A", "IND", "98^2^30", "", "", "27", "", ".20", "", "", "", "Y"],
            ["EB", "G", "IND", "30", "", "", "23", "7000", "", "", "", "", "Y"],
            ["EB", "G", "IND", "30", "", "", "29", "6100", "", "", "", "", "Y"],
        ]
    return [
        ["EB", "1", "FAM", "30^1^33^35^47^86^88^98^AL^MH^UC", "PR", "GOLD PPO 1500"],
        ["DTP", "346", "D8", year_start], ["DTP", "347", "D8", year_end],
        ["EB", "B", "IND", "98", "", "", "27", "25", "", "", "", "N", "Y"],
        ["MSG", "PRIMARY CARE OFFICE VISIT"],
        ["EB", "B", "IND", "98", "", "", "27", "60", "", "", "", "N", "N"],
        ["EB", "B", "IND", "UC", "", "", "27", "40", "", "", "", "N", "Y"],
        ["EB", "C", "IND", "30", "", "", "23", "1500", "", "", "", "", "Y"],
        ["EB", "C", "IND", "30", "", "", "29", "650", "", "", "", "", "Y"],
        ["EB", "C", "FAM", "30", "", "", "23", "3000", "", "", "", "", "Y"],
        ["EB", "A", "IND", "30^2", "", "", "27", "", ".20", "", "", "", "Y"],
        ["EB", "A", "IND", "30^2", "", "", "27", "", ".40", "", "", "", "N"],
        ["EB", "G", "IND", "30", "", "", "23", "5000", "", "", "", "", "Y"],
        ["EB", "G", "IND", "30", "", "", "29", "3200", "", "", "", "", "Y"],
        ["EB", "CB", "IND", "2", "", "", "", "", "", "", "", "Y", "Y"],
        ["MSG", "PRIOR AUTHORIZATION REQUIRED FOR INPATIENT AND OUTPATIENT SURGERY"],
    ]


class SimulatorClearinghouse(Clearinghouse):
    name = "simulator"

    def exchange(self, inquiry):
        f = _inquiry_fields(inquiry)
        isa, gs, st = f["isa"], f["gs"], f["st"]
        now = timezone.now()
        today = now.date()
        member_id = element(f["subscriber"], 9)
        d = DEFAULT
        body = [
            ["ST", "271", element(st, 2), element(st, 3)],
            ["BHT", "0022", "11", element(f["trace"] or [], 2) or element(st, 2), now.strftime("%Y%m%d"), now.strftime("%H%M")],
            ["HL", "1", "", "20", "1"],
        ]
        payer = ["NM1", *f["payer"]]
        if member_id.startswith("BUSY"):
            body += [payer, ["AAA", "Y", "", "42", "P"]]
        else:
            dependent = f["patient"] is not None
            body += [payer, ["HL", "2", "1", "21", "1"], ["NM1", *f["provider"]],
                     ["HL", "3", "2", "22", "1" if dependent else "0"]]
            trace = ["TRN", "2", element(f["trace"] or [], 2), element(f["trace"] or [], 3)] if f["trace"] else None
            if not dependent and trace:
                body.append(trace)
            body.append(["NM1", *f["subscriber"]])
            if member_id.startswith("NOTFOUND"):
                body.append(["AAA", "N", "", "72", "C"])
            else:
                if f["ref"]:
                    body.append(["REF", *f["ref"]])
                if dependent:
                    body += [["HL", "4", "3", "23", "0"], *([trace] if trace else []), ["NM1", *f["patient"]],
                             ["INS", "N", "19"]]
                body += _benefits(member_id, today)
        body.append(["SE", str(len(body) + 1), element(st, 2)])
        isa_out = list(isa)
        # Swap sender and receiver, stamp the time; keep the control number and the delimiters.
        isa_out[4], isa_out[5], isa_out[6], isa_out[7] = isa[6], isa[7], isa[4], isa[5]
        isa_out[8], isa_out[9] = now.strftime("%y%m%d"), now.strftime("%H%M")
        text = d.element.join(["ISA", *isa_out]) + d.segment
        text += write_segment(["GS", "HB", element(gs, 3), element(gs, 2), now.strftime("%Y%m%d"), now.strftime("%H%M"),
                               element(gs, 6), "X", element(gs, 8)], d)
        text += "".join(write_segment(s, d) for s in body)
        text += write_segment(["GE", "1", element(gs, 6)], d)
        text += write_segment(["IEA", "1", element(isa, 13)], d)
        return text
