"""Every error shape an mcpfleet client meets reads as a code and a reason, never None."""

from __future__ import annotations

import pytest

from runtime.error_body import read_error


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        ({"error": {"code": "forbidden", "reason": "token 'x' may not use server 'y'"}},
         "forbidden", "token 'x' may not use server 'y'"),
        ({"error": "unauthorized", "reason": "unknown token"}, "unauthorized", "unknown token"),
        ({"detail": "Not Found"}, None, "Not Found"),
        ({"detail": [{"loc": ["body", "task_type"], "msg": "not a task type"}]}, None,
         "task_type: not a task type"),
        ({"error": {"code": "starting"}}, "starting", "no reason given"),
        ("<html>502 Bad Gateway</html>", None, "<html>502 Bad Gateway</html>"),
        (None, None, "no reason given"),
    ],
    ids=["gateway-nested", "triage-flat", "fastapi-detail", "validation", "no-reason", "proxy",
         "empty"],
)
def test_each_error_shape_gives_its_code_and_reason(body: object, code: str | None,
                                                     reason: str) -> None:
    error = read_error(418, body)
    assert (error.status, error.code, error.reason) == (418, code, reason)


def test_the_rest_of_a_nested_error_is_kept_as_detail() -> None:
    body = {"error": {"code": "all_models_failed", "reason": "r", "attempts": [{"model": "m"}]}}
    assert read_error(503, body).detail == {"attempts": [{"model": "m"}]}
    assert str(read_error(503, body)) == "HTTP 503 all_models_failed: r"
