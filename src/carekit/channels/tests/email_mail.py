"""Raw mails for the email adapter's tests, built the way real clients build them."""

from __future__ import annotations

from email.header import Header
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def cp1251_with_attachment(
    *,
    to: str = "support@example.test",
    cc: str = "boss@customer.test",
    message_id: str = "<c1@customer.test>",
) -> bytes:
    """What an old Outlook sends: windows-1251 body, koi8-r encoded-word subject, a PDF attached."""
    msg = MIMEMultipart()
    msg["From"] = formataddr((str(Header("Иван Петров", "windows-1251")), "ivan@customer.test"))
    msg["To"] = to
    msg["Cc"] = cc
    msg["Subject"] = Header("Где мой заказ?", "koi8-r")
    msg["Message-ID"] = message_id
    msg["Date"] = "Sun, 22 Nov 2026 10:00:00 +0300"
    msg.attach(MIMEText("Здравствуйте! Заказ 42 не пришёл.\nСчёт во вложении.", "plain", "windows-1251"))
    part = MIMEApplication(PDF, "pdf")
    part.add_header("Content-Disposition", "attachment", filename=("windows-1251", "", "счёт.pdf"))
    msg.attach(part)
    return msg.as_bytes()


def reply(
    *,
    to: str,
    in_reply_to: str,
    references: str,
    body: str,
    subject: str = "Re: Где мой заказ?",
    sender: str = "ivan@customer.test",
    message_id: str = "<c2@customer.test>",
    charset: str = "koi8-r",
    extra: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["In-Reply-To"] = in_reply_to
    msg["References"] = references
    for k, v in (extra or {}).items():
        msg[k] = v
    msg.set_content(body, charset=charset)
    return msg.as_bytes()


def plain(
    *,
    body: str = "Hello, a question.",
    sender: str = "ann@customer.test",
    message_id: str = "<p1@customer.test>",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.test"
    msg["Subject"] = "Question"
    msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg.as_bytes()


def bounce(*, original_id: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r\n"
        "To: support@example.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <b1@mx.customer.test>\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\r\n\r\n'
        "--BB\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        f"--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; ivan@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--BB\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {original_id}\r\n\r\n--BB--\r\n"
    ).encode()


def malformed() -> bytes:
    return (
        b"From: broken@customer.test\r\nTo: support@example.test\r\nSubject: broken\r\n"
        b'Message-ID: <bad1@customer.test>\r\nContent-Type: multipart/mixed; boundary="NEVER"\r\n\r\n'
        b"there is no boundary line in this body at all \xff\xfe\r\n"
    )


def huge_attachment(megabytes: int = 30) -> bytes:
    msg = EmailMessage()
    msg["From"] = "big@customer.test"
    msg["To"] = "support@example.test"
    msg["Subject"] = "photos"
    msg["Message-ID"] = "<big1@customer.test>"
    msg.set_content("see attached")
    msg.add_attachment(
        b"\x00" * (megabytes * 1024 * 1024),
        maintype="application",
        subtype="octet-stream",
        filename="big.bin",
    )
    return msg.as_bytes()


def many_recipients(n: int = 5000) -> bytes:
    msg = EmailMessage()
    msg["From"] = "spam@customer.test"
    msg["To"] = "support@example.test"
    msg["Cc"] = ", ".join(f"user{i}@customer.test" for i in range(n))
    msg["Subject"] = "hi all"
    msg["Message-ID"] = "<many1@customer.test>"
    msg.set_content("to everyone")
    return msg.as_bytes()
