"""The HTTP side of the one error translation: every failure becomes a JSON error body.

Gateway errors keep their status and headers; FastAPI's validation errors become 400
``bad_request`` (with the failing locations, never the offending input, which may hold
secrets); unknown routes and methods keep their status in the same shape; anything
unexpected is a 500 whose body says nothing about the code — the stack goes to the log.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from runtime.gateway.errors import BadRequest, GatewayError, error_body

__all__ = ["install_error_handlers"]

logger = logging.getLogger(__name__)
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


def respond(error: GatewayError) -> JSONResponse:
    return JSONResponse(error_body(error), status_code=error.status, headers=dict(error.headers()))


async def _gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
    return respond(exc)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [
        {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", ""))}
        for err in exc.errors()
    ]
    first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"]) or "request"
    return respond(BadRequest(f"{where}: {first['msg']}", problems=problems))


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    code = HTTP_CODES.get(exc.status_code, "http_error")
    body = {"error": {"code": code, "reason": str(exc.detail)}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    body = {"error": {"code": "internal", "reason": "internal error; see the gateway's log"}}
    return JSONResponse(body, status_code=500)
