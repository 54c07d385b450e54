"""G.711 µ-law and A-law: known code points, round trips, and agreement with audioop."""

import struct
import warnings

import pytest

from cetatea.telephony.robot import g711


def pcm(*samples: int) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def samples(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 2}h", data))


def test_ulaw_known_code_points():
    # ITU-T G.711 table 2a: µ-law inverts the bits, so silence is 0xFF and the largest
    # magnitudes are 0x80 (positive) and 0x00 (negative).
    assert g711.encode_ulaw(pcm(0, 32767, -32768, 8, -8)) == bytes([0xFF, 0x80, 0x00, 0xFE, 0x7E])
    assert samples(g711.decode_ulaw(bytes([0xFF, 0x7F, 0x80, 0x00]))) == [0, 0, 32124, -32124]


def test_alaw_known_code_points():
    # ITU-T G.711 table 1a: even bits inverted (0x55), so the smallest positive is 0xD5.
    assert g711.encode_alaw(pcm(0, 32767, -32768, -1)) == bytes([0xD5, 0xAA, 0x2A, 0x55])
    assert samples(g711.decode_alaw(bytes([0xD5, 0x55, 0xAA, 0x2A]))) == [8, -8, 32256, -32256]


@pytest.mark.parametrize(
    ("encode", "decode"),
    [(g711.encode_ulaw, g711.decode_ulaw), (g711.encode_alaw, g711.decode_alaw)],
)
def test_every_code_decodes_and_encodes_back_to_itself(encode, decode):
    codes = bytes(range(256))
    again = encode(decode(codes))
    # µ-law has two codes for zero (0x7F and 0xFF); every other code is its own fixpoint.
    assert [a for a, b in zip(codes, again, strict=True) if a != b] in ([], [0x7F])


@pytest.mark.parametrize(
    ("encode", "decode", "worst"),
    [(g711.encode_ulaw, g711.decode_ulaw, 1024), (g711.encode_alaw, g711.decode_alaw, 1024)],
)
def test_round_trip_error_stays_within_the_quantisation_step(encode, decode, worst):
    values = list(range(-32768, 32768, 7))
    back = samples(decode(encode(pcm(*values))))
    for value, got in zip(values, back, strict=True):
        # The step grows with the magnitude: at most 1/16 of the segment (A-law and
        # µ-law both keep about 4 significant bits plus the segment).
        assert abs(value - got) <= max(16, abs(value) // 16 + 16), (value, got)
        assert abs(value - got) <= worst


def test_odd_length_pcm_is_refused():
    with pytest.raises(ValueError):
        g711.encode_ulaw(b"\x00\x00\x00")


def test_agrees_with_audioop_where_it_still_exists():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop", reason="audioop left Python in 3.13")
    every = pcm(*range(-32768, 32768))
    assert g711.encode_ulaw(every) == audioop.lin2ulaw(every, 2)
    assert g711.encode_alaw(every) == audioop.lin2alaw(every, 2)
    codes = bytes(range(256))
    assert g711.decode_ulaw(codes) == audioop.ulaw2lin(codes, 2)
    assert g711.decode_alaw(codes) == audioop.alaw2lin(codes, 2)
