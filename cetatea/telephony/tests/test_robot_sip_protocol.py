"""The SIP endpoint's parsers: SIP messages, SDP offers and answers, RTP, RFC 4733 events."""

import struct

import pytest

from cetatea.telephony.robot import sdp, sip

INVITE = (
    "INVITE sip:robot@127.0.0.1:5070 SIP/2.0\r\n"
    "v: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK0\r\n"
    "f: <sip:0722123456@pbx>;tag=abc\r\n"
    "t: <sip:robot@127.0.0.1>\r\n"
    "i: call-1@pbx\r\n"
    "CSeq: 7 INVITE\r\n"
    "Subject: a folded\r\n"
    "  header\r\n"
    "c: application/sdp\r\n"
    "l: 4\r\n"
    "\r\n"
    "v=0\r\nextra"
)

OFFER = (
    "v=0\r\n"
    "o=- 1 1 IN IP4 10.0.0.5\r\n"
    "s=-\r\n"
    "c=IN IP4 10.0.0.5\r\n"
    "t=0 0\r\n"
    "m=audio 40000 RTP/AVP 18 8 0 96\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=rtpmap:96 telephone-event/8000\r\n"
    "a=fmtp:96 0-16\r\n"
)


def test_request_with_compact_and_folded_headers_is_parsed():
    message = sip.parse_message(INVITE.encode())
    assert message.method == "INVITE"
    assert message.uri == "sip:robot@127.0.0.1:5070"
    assert message.get_all("via") == [
        "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1",
        "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK0",
    ]
    assert message.call_id == "call-1@pbx"
    assert message.cseq == (7, "INVITE")
    assert message.get("subject") == "a folded header"
    assert message.body == b"v=0\r"  # Content-Length wins over what follows


def test_response_is_parsed():
    message = sip.parse_message(b"SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 2 BYE\r\n\r\n")
    assert (message.is_request, message.status, message.reason) == (False, 200, "OK")


@pytest.mark.parametrize(
    "data",
    [
        b"hello world",
        b"INVITE sip:x SIP/3.0\r\n\r\n",
        b"\xff\xfe\x00garbage\r\n\r\n",
        b"SIP/2.0 OK\r\n\r\n",
        INVITE.replace("CSeq: 7 INVITE", "CSeq: 7 BYE").encode(),
        INVITE.replace("CSeq: 7 INVITE", "CSeq: seven INVITE").encode(),
        INVITE.replace("i: call-1@pbx\r\n", "").encode(),
        INVITE.replace("l: 4", "l: 400").encode(),
        INVITE.replace("Subject: a folded", "Bad Header Line").encode(),
    ],
)
def test_malformed_messages_raise_a_parse_error(data):
    with pytest.raises(sip.SipParseError):
        sip.parse_message(data)


def test_a_malformed_request_keeps_what_a_400_needs():
    data = INVITE.replace("CSeq: 7 INVITE", "CSeq: 7 BYE").encode()
    with pytest.raises(sip.SipParseError) as caught:
        sip.parse_message(data)
    assert caught.value.partial.call_id == "call-1@pbx"


def test_offer_negotiates_the_callers_first_g711_law_and_its_dtmf_payload_type():
    media = sdp.negotiate(sdp.parse(OFFER))
    assert media == sdp.Media("10.0.0.5", 40000, sdp.PCMA, 96)
    answer = sdp.answer(address="10.0.0.1", port=30000, media=media, session_id=5)
    assert "m=audio 30000 RTP/AVP 8 96\r\n" in answer
    assert "a=rtpmap:8 PCMA/8000\r\n" in answer
    assert "a=rtpmap:96 telephone-event/8000\r\n" in answer
    assert "c=IN IP4 10.0.0.1\r\n" in answer
    # The answer is itself a valid offer for the same stream.
    assert sdp.negotiate(sdp.parse(answer)) == sdp.Media("10.0.0.1", 30000, sdp.PCMA, 96)


def test_media_level_connection_overrides_the_session_level():
    offer = OFFER.replace("a=rtpmap:18", "c=IN IP4 10.0.0.77\r\na=rtpmap:18")
    assert sdp.negotiate(sdp.parse(offer)).address == "10.0.0.77"


def test_offer_without_telephone_event_still_gets_audio():
    media = sdp.negotiate(sdp.parse(OFFER.replace(" 96\r\n", "\r\n")))
    assert (media.payload_type, media.dtmf_payload_type) == (sdp.PCMA, None)


@pytest.mark.parametrize(
    "offer",
    [
        OFFER.replace("RTP/AVP 18 8 0 96", "RTP/AVP 18 96"),  # no G.711
        OFFER.replace("RTP/AVP", "RTP/SAVP"),  # SRTP
        OFFER.replace("IN IP4 10.0.0.5\r\nt=", "IN IP6 ::1\r\nt="),
        OFFER.replace("m=audio 40000", "m=audio 0"),  # stream disabled
        OFFER.replace("m=audio", "m=video"),
        OFFER.replace("RTP/AVP 18 8 0 96", "RTP/AVP 18 8 0 96").replace(
            "a=rtpmap:18", "a=rtpmap:8 opus/48000\r\na=rtpmap:0 G722/8000\r\na=rtpmap:18"
        ),  # 8 and 0 remapped to other codecs
    ],
)
def test_offer_without_a_supported_codec_is_refused(offer):
    with pytest.raises(sdp.NoCommonCodec):
        sdp.negotiate(sdp.parse(offer))


@pytest.mark.parametrize(
    "offer",
    [
        "not sdp at all",
        OFFER.replace("v=0\r\n", ""),
        OFFER.replace("c=IN IP4 10.0.0.5\r\n", ""),
        OFFER.replace("c=IN IP4 10.0.0.5", "c=IN IP4 999.1.1.1"),
        OFFER.replace("m=audio 40000 RTP/AVP 18 8 0 96", "m=audio x RTP/AVP 0"),
        OFFER.replace("m=audio 40000 RTP/AVP 18 8 0 96", "m=audio 40000 RTP/AVP 300"),
        OFFER.replace("m=audio 40000 RTP/AVP 18 8 0 96", "m=audio 40000"),
    ],
)
def test_malformed_sdp_is_an_sdp_error(offer):
    with pytest.raises(sdp.SdpError):
        sdp.negotiate(sdp.parse(offer))


def event(key: int, *, end: bool, duration: int = 160) -> bytes:
    return struct.pack("!BBH", key, (0x80 if end else 0) | 10, duration)


def test_rtp_packets_round_trip_with_csrcs_and_extension():
    packet = sip.rtp_packet(payload_type=101, seq=65535, timestamp=2**32 - 1, ssrc=7, payload=b"ab")
    assert sip.parse_rtp(packet) == (101, False, 65535, 2**32 - 1, b"ab")
    # Version 2, one CSRC, an extension of one word, the marker bit.
    header = struct.pack("!BBHII", 0x80 | 0x10 | 1, 0x80 | 0, 1, 2, 3) + b"\x00" * 4
    extension = struct.pack("!HH", 0xBEDE, 1) + b"\x00" * 4
    assert sip.parse_rtp(header + extension + b"xyz") == (0, True, 1, 2, b"xyz")
    assert sip.parse_rtp(b"\x00" * 20) is None  # version 0
    assert sip.parse_rtp(b"\x80\x00") is None  # too short


def test_telephone_events_report_each_key_once():
    events = sip.TelephoneEvents()
    keys = []
    # "1": a start packet with the marker, two updates, three end packets.
    for marker, end in [(True, False), (False, False), (False, False)] + [(False, True)] * 3:
        keys.append(events.packet(marker, 1000, event(1, end=end)))
    # "#" and "*" at new timestamps.
    keys.append(events.packet(True, 2000, event(11, end=False)))
    keys.append(events.packet(False, 2000, event(11, end=True)))
    keys.append(events.packet(True, 3000, event(10, end=True)))
    assert [k for k in keys if k] == ["1", "#", "*"]


def test_a_replayed_key_with_the_same_timestamp_counts_again_after_its_end():
    # sipp replays the same pcap for "0" twice: same timestamp, marker on each start.
    events = sip.TelephoneEvents()
    keys = []
    for _ in range(2):
        keys.append(events.packet(True, 500, event(0, end=False)))
        keys += [events.packet(False, 500, event(0, end=True)) for _ in range(3)]
    assert [k for k in keys if k] == ["0", "0"]


def test_unknown_events_and_short_payloads_are_ignored():
    events = sip.TelephoneEvents()
    assert events.packet(True, 1, event(16, end=False)) is None  # flash
    assert events.packet(True, 2, b"\x01") is None
