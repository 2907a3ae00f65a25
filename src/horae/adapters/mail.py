"""The Mailer port: plain-text mail over SMTP (stdlib smtplib), or a stand-in that only logs when no server is set."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from horae.ports import Mailer

log = logging.getLogger(__name__)
SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class SmtpMailer:
    """Hands each message to an SMTP server; one connection per message (mail is rare here).

    Args:
        url: `smtp://host:port` (plain), `smtp+starttls://...` (upgrades with STARTTLS) or `smtps://...`
            (TLS from the start); `user:password@` before the host logs in. Percent-escapes in the user
            and password are decoded, so a password may hold `@` or `:` as `%40` and `%3A`.
        mail_from: the From address.
        timeout: seconds to wait for the server at each step.
    """

    def __init__(self, url: str, mail_from: str, timeout: float = 20.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(
                "smtp_url must look like smtp://[user:password@]host[:port] (or smtps://, smtp+starttls://)"
            )
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or SCHEMES[parts.scheme]
        self.user = unquote(parts.username or "")
        self._password = unquote(parts.password or "")
        self.mail_from = mail_from
        self.timeout = timeout

    def __repr__(self) -> str:  # never the password
        return f"SmtpMailer({self.scheme}://{self.host}:{self.port}, from={self.mail_from!r})"

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.mail_from.rpartition("@")[2] or None)
        message.set_content(body)
        with self._connect() as server:
            if self.user:
                server.login(self.user, self._password)
            server.send_message(message)
        # The address only: bodies carry single-use links.
        log.info("mail sent", extra={"mail_to": to, "mail_subject": subject})

    def _connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.scheme == "smtp+starttls":
            try:
                server.starttls(context=ssl.create_default_context())
            except BaseException:
                server.close()
                raise
        return server


class LogMailer:
    """Used when no SMTP server is configured: says that a mail was not sent, never what it said (a body
    may hold a single-use link that is as good as a password)."""

    def send(self, to: str, subject: str, body: str) -> None:
        log.warning("mail not sent: SMTP not configured", extra={"mail_to": to, "mail_subject": subject})


def build_mailer(smtp_url: str, mail_from: str) -> Mailer:
    """An SMTP mailer when `smtp_url` is set, otherwise the one that only logs."""
    return SmtpMailer(smtp_url, mail_from) if smtp_url else LogMailer()
