"""A real SMTP server on loopback (aiosmtpd) that keeps every message it is handed, for tests of mail
Horae sends; it can offer a login (without TLS, loopback only) to test credentials in `smtp_url`."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class MailCatcher:
    """What the server received: parsed messages, and the envelope recipients of each."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def url(self, user: str = "", password: str = "") -> str:
        credentials = f"{user}:{password}@" if user else ""
        return f"smtp://{credentials}127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"expected {count} mail(s), got {len(self.messages)}"
            time.sleep(0.02)
        return list(self.messages)

    def links(self, index: int = -1) -> list[str]:
        body = self.messages[index].get_content()
        return re.findall(r"https?://\S+", str(body))


@contextmanager
def mail_catcher(user: str = "", password: str = "") -> Iterator[MailCatcher]:
    """Runs the server for the block; with `user`, it offers a login and accepts only that one."""
    catcher = MailCatcher(_free_port())

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == (user, password)
        if ok:
            catcher.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=True would mean "already answered": no 535, a hang

    options: dict[str, Any] = {}
    if user:
        options = {"authenticator": authenticate, "auth_require_tls": False}
    controller = Controller(catcher, hostname="127.0.0.1", port=catcher.port, **options)
    controller.start()
    try:
        yield catcher
    finally:
        controller.stop()
