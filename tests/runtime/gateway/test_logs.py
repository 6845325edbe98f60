"""JSON structured logs: one object per line, carrying the fields a call site adds."""

from __future__ import annotations

import io
import json
import logging
import sys

from runtime.gateway.logs import JsonFormatter, configure_logging


def test_each_record_is_one_json_object_with_its_extra_fields() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("INFO", stream)
    try:
        logging.getLogger("runtime.gateway.test").warning(
            "tool call failed", extra={"server": "dns", "latency_ms": 1.5}
        )
        logging.getLogger("runtime.gateway.test").debug("not shown at INFO")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["msg"] == "tool call failed"
    assert entry["logger"] == "runtime.gateway.test"
    assert entry["server"] == "dns" and entry["latency_ms"] == 1.5
    assert entry["ts"].endswith("+00:00")


def test_an_exception_is_kept_as_text_inside_the_object() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exc"]
