"""Reading an RFC 822 message without ever crashing on it.

Everything here works on whatever the ``email`` package (``policy.default``) could make of
the bytes: a header that cannot be parsed is read raw, a part whose charset is unknown is
decoded with replacement characters, and every defect found is reported so the log says
what was wrong with the message.
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import strip_tags

from cetatea.cases.selectors import normalize_reference
from cetatea.core.identifiers import normalize_email_address

MAX_KEY = 200  # Interaction.external_id and InboundMessage.message_id

# RFC 3834 and the headers mail systems actually send on automatic replies.
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
_AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply", "list"}
_DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster"}


@dataclass
class Part:
    """An attachment: its file name, type and decoded bytes."""

    name: str
    content_type: str
    payload: bytes


@dataclass
class ParsedMessage:
    key: str
    from_address: str  # normalised, or "" when the From header has no valid address
    from_name: str
    raw_from: str
    subject: str
    sent_at: object  # aware datetime or None
    body: str
    attachments: list[Part] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    auto_reply_reason: str = ""
    bounce_reason: str = ""
    # Text where a bounce may name the case: the returned message's headers and the report.
    bounce_text: str = ""

    @property
    def is_bounce(self) -> bool:
        return bool(self.bounce_reason)


def header(msg: Message, name: str, defects: list[str] | None = None) -> str:
    """A header as text, whatever it holds (never raises)."""
    try:
        value = msg.get(name)
        return "" if value is None else str(value).strip()
    except Exception as exc:  # a header the policy's parser chokes on: read it raw
        if defects is not None:
            defects.append(f"{name}: {type(exc).__name__}: {exc}")
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                try:
                    return str(make_header(decode_header(str(raw)))).strip()
                except Exception:
                    return str(raw).encode("ascii", "replace").decode().strip()
        return ""


def _text_of(part: Message) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except Exception:  # noqa: S110 - unknown charset, broken encoding: decoded below
        pass
    payload = part.get_payload(decode=True) or b""
    if isinstance(payload, str):
        return payload
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _html_to_text(value: str) -> str:
    value = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", value)
    value = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", value)
    text = html.unescape(strip_tags(value))
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t\r\f\v]+", " ", text)).strip()


def _body(msg: EmailMessage) -> tuple[str, Message | None]:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        if msg.is_multipart():
            return "", None
        part = msg
    text = _text_of(part)
    if part.get_content_subtype() == "html":
        text = _html_to_text(text)
    return text.replace("\r\n", "\n").strip(), part


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = re.sub(r"[\x00-\x1f/\\]", "_", name).strip().strip(".")
    if not name:
        ext = ".eml" if part.get_content_type() == "message/rfc822" else ""
        ext = ext or mimetypes.guess_extension(part.get_content_type()) or ".bin"
        name = f"attachment-{index}{ext}"
    return name[-200:]


def _payload(part: Message) -> bytes:
    if part.get_content_maintype() == "message":
        # An attached e-mail is kept as the .eml it was.
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        try:
            return inner.as_bytes() if isinstance(inner, Message) else b""
        except Exception:
            return str(inner).encode("utf-8", "replace")
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _attachments(msg: EmailMessage, body_part: Message | None) -> list[Part]:
    found: list[Part] = []
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop(0)
        if part is body_part:
            continue
        if part.is_multipart():
            payload = part.get_payload()
            stack[:0] = payload if isinstance(payload, list) else []
            continue
        disposition = part.get_content_disposition()
        is_text = part.get_content_maintype() == "text"
        if part is msg and is_text:
            continue  # a single-part text message is its own body
        if disposition != "attachment" and is_text and not _has_filename(part):
            continue  # an alternative or inline text part of the body
        found.append(
            Part(
                name=_filename(part, len(found) + 1),
                content_type=part.get_content_type(),
                payload=_payload(part),
            )
        )
    return found


def _has_filename(part: Message) -> bool:
    try:
        return bool(part.get_filename())
    except Exception:
        return False


def _all_defects(msg: Message) -> list[str]:
    out: list[str] = []
    for part in msg.walk():
        for defect in getattr(part, "defects", []):
            out.append(
                f"{type(defect).__name__}: {defect}" if str(defect) else type(defect).__name__
            )
    return out


def _auto_reply_reason(msg: Message, raw_from: str, defects: list[str]) -> str:
    auto_submitted = header(msg, "Auto-Submitted", defects).lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    present = {key.lower() for key, _value in msg.raw_items()}
    for name in _AUTO_HEADERS:
        if name.lower() in present:
            return f"{name} header"
    precedence = header(msg, "Precedence", defects).lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    if header(msg, "Return-Path", defects).replace(" ", "") == "<>":
        return "Return-Path: <> (null sender)"
    return ""


def _bounce_reason(msg: Message, from_address: str, raw_from: str) -> str:
    if msg.get_content_type() == "multipart/report":
        try:
            report_type = str(msg.get_param("report-type") or "").lower()
        except Exception:
            report_type = ""
        if report_type in ("delivery-status", ""):
            return "multipart/report; report-type=delivery-status"
    localpart = (from_address or parseaddr(raw_from)[1]).split("@")[0].lower()
    return f"sender {localpart}" if localpart in _DAEMON_LOCALPARTS else ""


def _bounce_text(msg: Message) -> str:
    chunks: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("text/rfc822-headers", "message/delivery-status", "text/plain"):
            chunks.append(_payload_text(part))
        elif ctype == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                chunks.append(header(inner, "Subject"))
    return "\n".join(chunks)[:100_000]


def _payload_text(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):  # message/delivery-status holds header blocks
        return "\n".join(str(p) for p in payload)
    return _text_of(part)


def message_key(msg: Message, raw: bytes, defects: list[str]) -> str:
    """The Message-ID, or a stable stand-in made from the raw bytes."""
    message_id = header(msg, "Message-ID", defects)
    if message_id and len(message_id) <= MAX_KEY and not re.search(r"[\s\x00]", message_id):
        return message_id
    basis = message_id.encode() if message_id else raw
    return f"sha256:{hashlib.sha256(basis).hexdigest()}@cetatea"


def parse(raw: bytes) -> ParsedMessage:
    """Parse ``raw``; never raises on bad input (the defects say what was wrong)."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    defects: list[str] = []
    raw_from = header(msg, "From", defects)
    try:
        addresses = getaddresses([raw_from]) if raw_from else []
    except Exception:
        addresses = []
    name, address = addresses[0] if addresses else ("", "")
    try:
        from_address = normalize_email_address(address) if address else ""
    except ValidationError:
        from_address = ""
        defects.append(f"From: no valid address in {raw_from!r}")
    subject = re.sub(r"\s+", " ", header(msg, "Subject", defects)).strip()
    sent_at = None
    date = header(msg, "Date", defects)
    if date:
        try:
            sent_at = parsedate_to_datetime(date)
            if timezone.is_naive(sent_at):
                sent_at = timezone.make_aware(sent_at, timezone.utc)
        except (TypeError, ValueError, IndexError, OverflowError):
            defects.append(f"Date: cannot read {date!r}")
    body, body_part = _body(msg)
    bounce_reason = _bounce_reason(msg, from_address, raw_from)
    parsed = ParsedMessage(
        key=message_key(msg, raw, defects),
        from_address=from_address,
        from_name=name.strip()[:200],
        raw_from=raw_from,
        subject=subject,
        sent_at=sent_at,
        body=body,
        attachments=[] if bounce_reason else _attachments(msg, body_part),
        auto_reply_reason=_auto_reply_reason(msg, raw_from, defects),
        bounce_reason=bounce_reason,
        bounce_text=_bounce_text(msg) if bounce_reason else "",
    )
    parsed.defects = [_clean(d) for d in defects + _all_defects(msg)]
    for name in ("from_name", "raw_from", "subject", "body", "bounce_text"):
        setattr(parsed, name, _clean(getattr(parsed, name)))
    return parsed


def _clean(value: str) -> str:
    """No NUL characters: PostgreSQL text cannot hold them, and no reader needs them."""
    return value.replace("\x00", "")


def references_in(text: str, *, limit: int = 5) -> list[str]:
    """Case references written anywhere in ``text`` (normalised, first ``limit``)."""
    prefix = re.escape(settings.CETATEA_CASE_PREFIX)
    pattern = re.compile(rf"(?<![A-Za-z0-9]){prefix}[-\s/]?\d{{4}}[-\s/]?\d{{1,9}}(?!\d)", re.I)
    found: list[str] = []
    for match in pattern.finditer(text or ""):
        try:
            reference = normalize_reference(match.group(0))
        except ValidationError:
            continue
        if reference not in found:
            found.append(reference)
        if len(found) >= limit:
            break
    return found
