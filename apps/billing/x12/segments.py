"""Segments and delimiters. An interchange names its own delimiters in the fixed-width ISA
segment (106 characters): the element separator is ISA's fourth character, the repetition
separator ISA11, the component separator ISA16, and the segment terminator the character after
it. We write with * ^ : ~ and read whatever the ISA says."""
import re
from dataclasses import dataclass

ISA_LENGTH = 106
# What an X12 element may hold here: the extended character set, no control characters.
_FORBIDDEN = {chr(c) for c in range(32) if chr(c) not in "\r\n"} | {"\x7f"}
# The same set as one compiled character class: scanning a 900-character answer with it costs
# a third of intersecting the set with every character (7 against 20 us).
_FORBIDDEN_RE = re.compile("[" + "".join(f"\\x{ord(ch):02x}" for ch in sorted(_FORBIDDEN)) + "]")
# Segment identifiers already found valid (2-3 upper-case ASCII letters or digits: at most
# 36**3 + 36**2 of them, so the set stays bounded); most answers use a dozen.
_VALID_IDS = set()


class X12Error(ValueError):
    """The text is not a well-formed X12 interchange of the kind expected; the message says
    what is wrong in words a person can act on (never the file's content: it holds PHI)."""


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    repetition: str = "^"
    component: str = ":"
    segment: str = "~"

    def chars(self):
        return (self.element, self.repetition, self.component, self.segment)


DEFAULT = Delimiters()


def clean_element(value, delimiters=DEFAULT, *, upper=True):
    """`value` as an element: delimiters and control characters removed, spaces squeezed,
    upper case (payers compare names in upper case)."""
    text = "".join(ch for ch in str(value) if ch not in delimiters.chars() and ch not in _FORBIDDEN)
    text = " ".join(text.split())
    return text.upper() if upper else text


def write_segment(elements, delimiters=DEFAULT):
    """One segment: trailing empty elements dropped (X12 forbids trailing separators)."""
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    return delimiters.element.join(values) + delimiters.segment


def read_delimiters(text):
    if len(text) < ISA_LENGTH or not text.startswith("ISA"):
        raise X12Error("This is not an X12 interchange: it must start with a 106-character ISA segment.")
    element = text[3]
    fields = text[:ISA_LENGTH].split(element)
    if len(fields) != 17:
        raise X12Error("The ISA segment must have 16 elements of fixed width.")
    delimiters = Delimiters(element=element, repetition=fields[11], component=text[104], segment=text[105])
    chars = delimiters.chars()
    if len(set(chars)) != 4 or any(ch.isalnum() or ch in " \r\n" for ch in chars[:3]):
        raise X12Error("The ISA segment names delimiters that cannot be told apart.")
    return delimiters


def split_segments(text, *, max_length, max_segments):
    """[(segment id, [elements...]), ...] of `text`, with its delimiters; X12Error for text that
    is too long, holds control characters, or has more segments than `max_segments`."""
    if not isinstance(text, str):
        raise X12Error("The answer must be text.")
    if len(text) > max_length:
        raise X12Error(f"The answer is longer than {max_length} characters.")
    text = text.lstrip("\ufeff \r\n")
    if _FORBIDDEN_RE.search(text):
        raise X12Error("The answer holds control characters (such as NUL) that X12 does not allow.")
    delimiters = read_delimiters(text)
    raw = text.split(delimiters.segment)
    if len(raw) > max_segments + 1:
        raise X12Error(f"The answer has more than {max_segments} segments.")
    separator = delimiters.element
    line_breaks = "\r" in text or "\n" in text  # without any, no chunk needs stripping
    valid = _VALID_IDS
    segments = []
    append = segments.append
    for chunk in raw:
        if line_breaks:
            chunk = chunk.strip("\r\n")
        if not chunk:
            continue
        elements = chunk.split(separator)
        segment_id = elements.pop(0)  # cheaper than a slice or starred unpacking
        if segment_id not in valid:
            if not (2 <= len(segment_id) <= 3 and segment_id.isascii() and segment_id.isalnum()
                    and segment_id == segment_id.upper()):
                raise X12Error(f"Segment {len(segments) + 1} has no valid segment identifier.")
            valid.add(segment_id)
        append((segment_id, elements))
    return segments, delimiters


def element(elements, position, default=""):
    """The element at X12 position `position` (1-based) of a segment's element list."""
    return elements[position - 1] if len(elements) >= position else default
