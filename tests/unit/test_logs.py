"""Structured logs: one JSON object a line for machines, readable lines for people."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime

import pytest

from horae import logs


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger writing through the JSON formatter into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("horae.test_logs.json")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.handlers.clear()
    logger.propagate = True


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_one_json_object_per_line_with_the_standard_fields(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("request %s", "done")
    logger.warning("second")
    first, second = _lines(stream)
    assert first["message"] == "request done"
    assert first["level"] == "info"
    assert first["logger"] == "horae.test_logs.json"
    assert datetime.fromisoformat(str(first["time"])).utcoffset() is not None
    assert second["level"] == "warning" and second["message"] == "second"


def test_extra_fields_are_included(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("request", extra={"method": "GET", "path": "/v1/userinfo", "status": 200, "elapsed_ms": 1.5})
    (entry,) = _lines(stream)
    assert entry["method"] == "GET"
    assert entry["path"] == "/v1/userinfo"
    assert entry["status"] == 200
    assert entry["elapsed_ms"] == 1.5


def test_no_color_message_and_no_logrecord_internals(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    # uvicorn passes a coloured copy of the message this way.
    logger.info("Started server", extra={"color_message": "\x1b[1mStarted server\x1b[0m", "_private": 1})
    (entry,) = _lines(stream)
    assert "color_message" not in entry
    assert "_private" not in entry
    for internal in ("args", "msg", "levelno", "pathname", "lineno", "exc_text", "created", "thread"):
        assert internal not in entry
    assert entry["message"] == "Started server"


def test_a_multi_line_message_stays_on_one_line(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.error("first line\nsecond line", extra={"note": "a\nb"})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["message"] == "first line\nsecond line"
    assert entry["note"] == "a\nb"


def test_exceptions_are_included_on_the_same_line(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "error"
    assert "RuntimeError: boom" in str(entry["exception"])


def test_values_json_cannot_encode_become_strings(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    when = datetime(2025, 1, 21, 9, 0)
    logger.info("odd", extra={"when": when, "obj": object()})
    (entry,) = _lines(stream)
    assert entry["when"] == str(when)
    assert str(entry["obj"]).startswith("<object object")


def test_console_formatter_is_one_readable_line() -> None:
    record = logging.LogRecord("horae.api", logging.INFO, __file__, 1, "request", (), None)
    record.method = "GET"
    record.status = 200
    record.color_message = "\x1b[1mrequest\x1b[0m"
    line = logs.ConsoleFormatter().format(record)
    assert "\n" not in line
    assert "info" in line and "horae.api" in line and "request" in line
    assert "method=GET" in line and "status=200" in line
    assert "color_message" not in line and "\x1b" not in line


@pytest.fixture
def restored_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in ("huey", "huey.consumer", "uvicorn.access")}
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in noisy.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.parametrize(("fmt", "expected"), [("json", logs.JsonFormatter), ("console", logs.ConsoleFormatter)])
def test_configure_installs_one_handler(restored_root: logging.Logger, fmt: str, expected: type) -> None:
    logs.configure(fmt, "debug")
    assert len(restored_root.handlers) == 1
    assert type(restored_root.handlers[0].formatter) is expected
    assert restored_root.level == logging.DEBUG
    assert logging.getLogger("uvicorn.access").level == logging.WARNING


def test_configure_auto_picks_json_when_not_on_a_terminal(
    restored_root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # StringIO.isatty() is False
    logs.configure("auto", "info")
    assert type(restored_root.handlers[0].formatter) is logs.JsonFormatter
    assert restored_root.level == logging.INFO
