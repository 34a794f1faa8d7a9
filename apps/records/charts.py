"""Small trend charts drawn on the server as inline SVG (no script, no CDN), 320 px wide so they
fit a phone: the portal's chart of a repeated lab test, and the care team's charts of a
patient's own readings (blood pressure as two lines, systolic and diastolic, on one scale). A
range (a lab's reference range) is a shaded band; each point is a dot with its value as a
tooltip; points out of range are drawn darker."""
from dataclasses import dataclass

from django.utils import timezone

WIDTH, HEIGHT, PAD_X, PAD_Y = 320, 120, 28, 14


@dataclass
class Point:
    x: float
    y: float
    label: str
    abnormal: bool


def _date_label(when):
    when = timezone.localtime(when)
    return f"{when:%b} {when.day}, {when.year}"


def line_chart(series, *, low=None, high=None):
    """The geometry of one or more lines over the same times. `series`: lists of (when, value,
    label, abnormal), each oldest first and of the same length (at least two points, else
    None). `low`/`high`: a band to shade. {"lines": [{"points", "polyline"}], "points" and
    "polyline" (the first line's), "band", "first", "last", "width", "height", "pad_x"}."""
    series = [list(line) for line in series if line]
    if not series or len(series[0]) < 2:
        return None
    values = [float(value) for line in series for _, value, _, _ in line]
    bounds = values + [float(b) for b in (low, high) if b is not None]
    top, bottom = max(bounds), min(bounds)
    span = (top - bottom) or 1.0
    top, bottom = top + span * 0.1, bottom - span * 0.1
    span = top - bottom

    def y_of(value):
        return round(PAD_Y + (top - value) / span * (HEIGHT - 2 * PAD_Y), 1)

    step = (WIDTH - 2 * PAD_X) / (len(series[0]) - 1)
    lines = []
    for line in series:
        points = [Point(x=round(PAD_X + index * step, 1), y=y_of(float(value)), label=label, abnormal=abnormal)
                  for index, (_, value, label, abnormal) in enumerate(line)]
        lines.append({"points": points, "polyline": " ".join(f"{p.x},{p.y}" for p in points)})
    band = None
    if low is not None or high is not None:
        band_top = y_of(float(high)) if high is not None else PAD_Y
        band_bottom = y_of(float(low)) if low is not None else HEIGHT - PAD_Y
        band = {"y": band_top, "height": round(max(band_bottom - band_top, 1), 1)}
    return {
        "lines": lines, "points": lines[0]["points"], "polyline": lines[0]["polyline"], "band": band,
        "first": timezone.localtime(series[0][0][0]), "last": timezone.localtime(series[0][-1][0]),
        "width": WIDTH, "height": HEIGHT, "pad_x": PAD_X,
    }


def trend_chart(results):
    """The chart of lab `results` (oldest first, numeric values), or None for fewer than two;
    the newest result's reference range is the band."""
    results = [r for r in results if r.value_numeric is not None]
    if len(results) < 2:
        return None
    line = [(r.collected_at, r.value_numeric,
             f"{_date_label(r.collected_at)}: {r.value} {r.unit}".strip(), r.is_abnormal) for r in results]
    return line_chart([line], low=results[-1].reference_low, high=results[-1].reference_high)


def readings_chart(readings):
    """The chart of one type of a patient's readings (oldest first), or None for fewer than two:
    blood pressure draws systolic and diastolic as two lines."""
    if len(readings) < 2:
        return None
    line = [(r.measured_at, r.value, f"{_date_label(r.measured_at)}: {r.display_value} {r.unit}", False)
            for r in readings]
    series = [line]
    if readings[0].diastolic is not None:
        series.append([(r.measured_at, r.diastolic, f"{_date_label(r.measured_at)}: {r.display_value} {r.unit}", False)
                       for r in readings])
    return line_chart(series)
