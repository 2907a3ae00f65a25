"""The Mailer adapters: SMTP against a real server on loopback (aiosmtpd), with and without a login, and
the stand-in that only logs when no server is configured."""

from __future__ import annotations

import logging
import smtplib

import pytest

from horae.adapters.mail import LogMailer, SmtpMailer, build_mailer
from tests.mail_catcher import mail_catcher

BODY = "Open https://horae.example/password-reset/SECRET-TOKEN within the hour.\n"


def test_a_message_reaches_the_smtp_server_whole() -> None:
    with mail_catcher() as catcher:
        SmtpMailer(catcher.url(), "Horae <horae@example.org>").send("ada@example.com", "Reset", BODY)
        [message] = catcher.wait_for(1)
    assert catcher.recipients == [["ada@example.com"]]
    assert message["From"] == "Horae <horae@example.org>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Reset"
    assert message["Message-ID"].endswith("@example.org>") and message["Date"]
    assert message.get_content().replace("\r\n", "\n") == BODY  # SMTP carries CRLF line ends


def test_credentials_in_the_url_log_in_and_are_decoded() -> None:
    with mail_catcher(user="mailer", password="p@ss:word") as catcher:
        mailer = SmtpMailer(catcher.url("mailer", "p%40ss%3Aword"), "horae@example.org")
        mailer.send("ada@example.com", "Hello", "Hi")
        catcher.wait_for(1)
        assert catcher.logins == ["mailer"]
        assert "p@ss" not in repr(mailer) and "word" not in repr(mailer)
        refused = SmtpMailer(catcher.url("mailer", "wrong"), "horae@example.org")
        with pytest.raises(OSError) as raised:  # smtplib's errors are OSErrors: what the Mailer port promises
            refused.send("ada@example.com", "Hello", "Hi")
        assert isinstance(raised.value, smtplib.SMTPAuthenticationError)  # refused, not timed out


def test_an_unreachable_server_raises_an_os_error() -> None:
    with mail_catcher() as catcher:
        url = catcher.url()
    with pytest.raises(OSError):
        SmtpMailer(url, "horae@example.org", timeout=2).send("ada@example.com", "Hello", "Hi")


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "mail.example:25"])
def test_a_malformed_smtp_url_is_refused_at_start(url: str) -> None:
    with pytest.raises(ValueError, match="smtp://"):
        SmtpMailer(url, "horae@example.org")


def test_ports_default_by_scheme() -> None:
    ports = [SmtpMailer(f"{scheme}://mail.example", "x@y.z").port for scheme in ("smtp", "smtp+starttls", "smtps")]
    assert ports == [25, 587, 465]


def test_without_a_server_mail_is_only_logged_as_not_sent(caplog: pytest.LogCaptureFixture) -> None:
    mailer = build_mailer("", "horae@example.org")
    assert isinstance(mailer, LogMailer)
    with caplog.at_level(logging.DEBUG):
        mailer.send("ada@example.com", "Reset your password", BODY)
    [record] = caplog.records
    assert record.getMessage() == "mail not sent: SMTP not configured"
    assert "SECRET-TOKEN" not in repr(record.__dict__)
