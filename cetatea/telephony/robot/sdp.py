"""SDP offer/answer (RFC 3264/4566) for the robot's one audio stream.

The robot speaks G.711 only: PCMU (payload type 0) or PCMA (8), whichever the caller
lists first, and takes DTMF as RFC 4733 telephone-events at the payload type the
caller chose (usually 101). Anything else in an offer is ignored; an offer with no
G.711 gets a 488 from the SIP layer.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

PCMU, PCMA = 0, 8
SUPPORTED = {PCMU: "PCMU", PCMA: "PCMA"}
DEFAULT_DTMF_PT = 101


class SdpError(ValueError):
    """The body is not a usable SDP description (the SIP layer answers 400)."""


class NoCommonCodec(ValueError):
    """The offer has no codec the robot speaks (the SIP layer answers 488)."""


@dataclass
class Offer:
    address: str
    port: int
    formats: list[int]
    rtpmap: dict[int, str] = field(default_factory=dict)  # pt -> "name/rate" (lower-case)


@dataclass(frozen=True)
class Media:
    """What was agreed: where to send RTP, in which law, and the DTMF payload type."""

    address: str
    port: int
    payload_type: int
    dtmf_payload_type: int | None


def parse(body: str) -> Offer:
    """The first active audio stream of an SDP body."""
    session_address = None
    media: Offer | None = None
    media_address = None
    seen_version = False
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            continue
        if len(line) < 2 or line[1] != "=":
            raise SdpError(f"not an SDP line: {line[:40]!r}")
        kind, value = line[0], line[2:].strip()
        if kind == "v":
            seen_version = True
        elif kind == "c":
            address = _connection_address(value)
            if media is None:
                session_address = address
            elif media_address is None:
                media_address = address
        elif kind == "m":
            if media is not None:
                break  # only the first audio stream is used
            parts = value.split()
            if len(parts) < 4:
                raise SdpError("m= line needs media, port, protocol and formats")
            if parts[0] != "audio":
                continue
            try:
                port = int(parts[1].split("/")[0])
                formats = [int(pt) for pt in parts[3:]]
            except ValueError as exc:
                raise SdpError("m= line has a bad port or format") from exc
            if not 0 <= port <= 65535 or any(not 0 <= pt <= 127 for pt in formats):
                raise SdpError("m= line port or payload type out of range")
            if parts[2] != "RTP/AVP":
                raise NoCommonCodec(f"unsupported media protocol {parts[2]}")
            media = Offer(address="", port=port, formats=formats)
        elif kind == "a" and media is not None and value.startswith("rtpmap:"):
            pt_text, _, encoding = value[len("rtpmap:") :].partition(" ")
            try:
                media.rtpmap[int(pt_text)] = encoding.strip().lower()
            except ValueError as exc:
                raise SdpError("bad a=rtpmap") from exc
    if not seen_version:
        raise SdpError("no v= line")
    if media is None:
        raise NoCommonCodec("no audio stream offered")
    address = media_address or session_address
    if address is None:
        raise SdpError("no c= connection address")
    media.address = address
    return media


def negotiate(offer: Offer) -> Media:
    """Choose the caller's first G.711 law and its telephone-event payload type."""
    if offer.port == 0:
        raise NoCommonCodec("the audio stream is disabled (port 0)")
    chosen = None
    for pt in offer.formats:
        name = offer.rtpmap.get(pt, "")
        if pt in SUPPORTED and (not name or name.startswith(SUPPORTED[pt].lower() + "/8000")):
            chosen = pt
            break
    if chosen is None:
        raise NoCommonCodec("no PCMU or PCMA in the offer")
    dtmf = None
    for pt in offer.formats:
        if offer.rtpmap.get(pt, "").startswith("telephone-event/8000"):
            dtmf = pt
            break
    return Media(offer.address, offer.port, chosen, dtmf)


def answer(*, address: str, port: int, media: Media, session_id: int) -> str:
    """The SDP answer for ``media``, our RTP at ``address``:``port``."""
    formats = [str(media.payload_type)]
    lines = [
        "v=0",
        f"o=cetatea {session_id} {session_id} IN IP4 {address}",
        "s=Cetatea",
        f"c=IN IP4 {address}",
        "t=0 0",
    ]
    attributes = [f"a=rtpmap:{media.payload_type} {SUPPORTED[media.payload_type]}/8000"]
    if media.dtmf_payload_type is not None:
        formats.append(str(media.dtmf_payload_type))
        attributes += [
            f"a=rtpmap:{media.dtmf_payload_type} telephone-event/8000",
            f"a=fmtp:{media.dtmf_payload_type} 0-15",
        ]
    lines.append(f"m=audio {port} RTP/AVP {' '.join(formats)}")
    lines += attributes + ["a=ptime:20", "a=sendrecv"]
    return "\r\n".join(lines) + "\r\n"


def _connection_address(value: str) -> str:
    parts = value.split()
    if len(parts) < 3 or parts[0] != "IN":
        raise SdpError("bad c= line")
    if parts[1] != "IP4":
        raise NoCommonCodec("only IPv4 media is supported")
    address = parts[2].split("/")[0]
    try:
        ipaddress.IPv4Address(address)
    except ValueError as exc:
        raise SdpError(f"bad c= address {address!r}") from exc
    return address
