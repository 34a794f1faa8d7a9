"""Drawn signatures: a PNG the signing page's canvas exports, checked to be a real image before
it is stored. No imaging library: the PNG structure is walked here (signature, chunks and
their CRCs, IHDR, the zlib stream of IDAT inflated with a ceiling, IEND), which is all a
signature needs and leaves no decoder exposed to hostile input."""
import base64
import binascii
import struct
import zlib

from apps.consents.exceptions import SigningIncomplete

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 200 * 1024
MAX_WIDTH, MAX_HEIGHT = 2000, 1000
MIN_WIDTH, MIN_HEIGHT = 50, 20
DATA_URL_PREFIX = "data:image/png;base64,"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel


def _invalid(message):
    return SigningIncomplete(message, code="signature_invalid")


def decode_data_url(value):
    """The PNG bytes of a `data:image/png;base64,...` URL (what canvas.toDataURL gives)."""
    if not isinstance(value, str) or not value.startswith(DATA_URL_PREFIX):
        raise _invalid("The drawn signature must be a PNG image.")
    encoded = value[len(DATA_URL_PREFIX):]
    if len(encoded) > (MAX_BYTES * 4) // 3 + 8:
        raise _invalid(f"The drawn signature is too large (at most {MAX_BYTES // 1024} KB).")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("The drawn signature could not be read.")


def validate_png(data):
    """Raise SigningIncomplete (code signature_invalid) unless `data` is a well-formed PNG of a
    sensible size with some ink on it. Returns (width, height)."""
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_BYTES:
        raise _invalid(f"The drawn signature is too large (at most {MAX_BYTES // 1024} KB).")
    if not data.startswith(PNG_MAGIC):
        raise _invalid("The drawn signature is not a PNG image.")
    pos, header, idat, ended = len(PNG_MAGIC), None, [], False
    while pos < len(data):
        if pos + 12 > len(data):
            raise _invalid("The drawn signature is a damaged image.")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            raise _invalid("The drawn signature is a damaged image.")
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise _invalid("The drawn signature is a damaged image.")
        if header is None and kind != b"IHDR":
            raise _invalid("The drawn signature is a damaged image.")
        if kind == b"IHDR":
            if length != 13 or header is not None:
                raise _invalid("The drawn signature is a damaged image.")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            ended = True
            pos += 12 + length
            break
        pos += 12 + length
    if header is None or not idat or not ended or pos != len(data):
        raise _invalid("The drawn signature is a damaged image.")
    width, height, depth, colour, compression, filtering, interlace = header
    if not (MIN_WIDTH <= width <= MAX_WIDTH and MIN_HEIGHT <= height <= MAX_HEIGHT):
        raise _invalid("The drawn signature has an unexpected size.")
    if colour not in _CHANNELS or depth not in (1, 2, 4, 8, 16) or compression or filtering or interlace > 1:
        raise _invalid("The drawn signature is not a supported PNG image.")
    # The inflated size is known from the header: inflate at most that much (a zip bomb stops
    # here), and require exactly that much for a non-interlaced image.
    row = (width * _CHANNELS[colour] * depth + 7) // 8 + 1
    expected = row * height
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(b"".join(idat), expected + 1)
    except zlib.error:
        raise _invalid("The drawn signature is a damaged image.")
    if (interlace == 0 and len(raw) != expected) or len(raw) > expected:
        raise _invalid("The drawn signature is a damaged image.")
    if interlace == 0 and not _has_ink(raw, row, colour):
        raise _invalid("The signature box is empty: please sign, or type your signature instead.")
    return width, height


def _has_ink(raw, row, colour):
    """Any filtered scanline with a non-zero byte: a blank canvas (all transparent, filter 0 or
    with zero deltas) compresses to rows of zeros. Good enough to refuse an empty box."""
    for start in range(0, len(raw), row):
        if any(raw[start + 1:start + row]):
            return True
    return False
