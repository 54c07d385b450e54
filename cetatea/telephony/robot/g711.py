"""G.711 µ-law (PCMU) and A-law (PCMA) for 16-bit linear PCM, without `audioop`.

`audioop` left the standard library in Python 3.13. This is the ITU-T G.711 reference
algorithm (the Sun/CCITT ``g711.c`` that `audioop` also used: µ-law on the top 14
bits, A-law on the top 13), turned into lookup tables once at import: encoding is one
table look-up per sample, decoding one per byte. PCM is signed 16-bit little-endian,
mono, as sox writes it and as RTP payloads are built from.
"""

from __future__ import annotations

import sys
from array import array

_SEG_UEND = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_SEG_AEND = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159


def _segment(value: int, ends: tuple[int, ...]) -> int:
    for seg, end in enumerate(ends):
        if value <= end:
            return seg
    return len(ends)


def linear_to_ulaw(sample: int) -> int:
    """One 16-bit sample to a µ-law byte."""
    pcm = sample >> 2  # 14-bit magnitude range
    if pcm < 0:
        pcm = -pcm
        mask = 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    seg = _segment(pcm, _SEG_UEND)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) ^ mask


def ulaw_to_linear(byte: int) -> int:
    """One µ-law byte to a 16-bit sample."""
    u = ~byte & 0xFF
    t = (((u & 0x0F) << 3) + _ULAW_BIAS) << ((u & 0x70) >> 4)
    return _ULAW_BIAS - t if u & 0x80 else t - _ULAW_BIAS


def linear_to_alaw(sample: int) -> int:
    """One 16-bit sample to an A-law byte."""
    pcm = sample >> 3  # 13-bit magnitude range
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = _segment(pcm, _SEG_AEND)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= ((pcm >> 1) if seg < 2 else (pcm >> seg)) & 0x0F
    return aval ^ mask


def alaw_to_linear(byte: int) -> int:
    """One A-law byte to a 16-bit sample."""
    a = byte ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


def _encode_table(encode) -> bytes:
    # Indexed by the sample's 16 bits read as unsigned, so an array("H") view of the
    # PCM indexes it directly.
    return bytes(encode(u - 0x10000 if u >= 0x8000 else u) for u in range(0x10000))


def _decode_table(decode) -> tuple[bytes, ...]:
    return tuple(decode(b).to_bytes(2, "little", signed=True) for b in range(256))


_ULAW_ENC = _encode_table(linear_to_ulaw)
_ALAW_ENC = _encode_table(linear_to_alaw)
_ULAW_DEC = _decode_table(ulaw_to_linear)
_ALAW_DEC = _decode_table(alaw_to_linear)


def _samples(pcm: bytes) -> array:
    if len(pcm) % 2:
        raise ValueError("16-bit PCM must have an even number of bytes")
    samples = array("H", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def encode_ulaw(pcm: bytes) -> bytes:
    """16-bit little-endian PCM to µ-law, one byte per sample."""
    return bytes(map(_ULAW_ENC.__getitem__, _samples(pcm)))


def encode_alaw(pcm: bytes) -> bytes:
    """16-bit little-endian PCM to A-law, one byte per sample."""
    return bytes(map(_ALAW_ENC.__getitem__, _samples(pcm)))


def decode_ulaw(data: bytes) -> bytes:
    """µ-law bytes to 16-bit little-endian PCM."""
    return b"".join(map(_ULAW_DEC.__getitem__, data))


def decode_alaw(data: bytes) -> bytes:
    """A-law bytes to 16-bit little-endian PCM."""
    return b"".join(map(_ALAW_DEC.__getitem__, data))


# RTP static payload types (RFC 3551) -> (encoding name, encoder, decoder).
CODECS = {
    0: ("PCMU", encode_ulaw, decode_ulaw),
    8: ("PCMA", encode_alaw, decode_alaw),
}
# What one byte of silence is in each law (the encoding of sample 0).
SILENCE = {0: bytes([linear_to_ulaw(0)]), 8: bytes([linear_to_alaw(0)])}
