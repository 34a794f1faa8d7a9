"""The portal's small trend chart of a repeated lab test: an inline SVG drawn on the server
(no script, no CDN), 320 px wide so it fits a phone. The reference range is a shaded band;
each point is a dot with its value as a tooltip; the points out of range are drawn darker."""
from dataclasses import dataclass

from django.utils import timezone

WIDTH, HEIGHT, PAD_X, PAD_Y = 320, 120, 28, 14


@dataclass
class Point:
    x: float
    y: float
    label: str
    abnormal: bool


def trend_chart(results):
    """The chart's geometry for `results` (oldest first, numeric values), or None for fewer
    than two: {"points", "polyline", "band", "min", "max", "width", "height"}."""
    results = [r for r in results if r.value_numeric is not None]
    if len(results) < 2:
        return None
    values = [float(r.value_numeric) for r in results]
    low = results[-1].reference_low
    high = results[-1].reference_high
    bounds = values + [float(b) for b in (low, high) if b is not None]
    top, bottom = max(bounds), min(bounds)
    span = (top - bottom) or 1.0
    top, bottom = top + span * 0.1, bottom - span * 0.1
    span = top - bottom

    def y_of(value):
        return round(PAD_Y + (top - value) / span * (HEIGHT - 2 * PAD_Y), 1)

    step = (WIDTH - 2 * PAD_X) / (len(results) - 1)
    points = []
    for index, (result, value) in enumerate(zip(results, values)):
        when = timezone.localtime(result.collected_at)
        points.append(Point(x=round(PAD_X + index * step, 1), y=y_of(value),
                            label=f"{when:%b} {when.day}, {when.year}: {result.value} {result.unit}".strip(),
                            abnormal=result.is_abnormal))
    band = None
    if low is not None or high is not None:
        band_top = y_of(float(high)) if high is not None else PAD_Y
        band_bottom = y_of(float(low)) if low is not None else HEIGHT - PAD_Y
        band = {"y": band_top, "height": round(max(band_bottom - band_top, 1), 1)}
    return {
        "points": points,
        "polyline": " ".join(f"{p.x},{p.y}" for p in points),
        "band": band,
        "first": timezone.localtime(results[0].collected_at),
        "last": timezone.localtime(results[-1].collected_at),
        "width": WIDTH, "height": HEIGHT, "pad_x": PAD_X,
    }
