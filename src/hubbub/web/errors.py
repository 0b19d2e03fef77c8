"""The 422 answer for a request that fails validation, safe for any input.

FastAPI's own handler echoes the offending input, and a JSON string may hold
a lone surrogate (``"a\\ud800b"``) that Python decodes but UTF-8 cannot
encode: building the 422 then raised, and the client got a 500 (so did
``NaN``, which Python's JSON reader accepts and a JSON answer cannot hold).
Here every string in the answer has its surrogates replaced by U+FFFD, long
ones are cut, and values that are not JSON become strings.
"""

from __future__ import annotations

import math
import re

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

_SURROGATES = re.compile("[\ud800-\udfff]")
MAX_ECHO = 200  # characters of an offending input string repeated in the answer

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]


def _clean(value: object) -> JSON:
    """``value`` as JSON data with only encodable, bounded strings."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        # Python's JSON reader takes NaN and Infinity; a JSON answer cannot.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        text = _SURROGATES.sub("\ufffd", value)
        return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {str(_clean(str(k))): _clean(v) for k, v in value.items()}
    return _clean(str(value))  # an exception in "ctx", a Decimal, …


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's shape (``{"detail": [errors]}``), encodable whatever was sent."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _clean(errors)}, status_code=422)


def invalid(location: str, name: str, message: str) -> RequestValidationError:
    """A 422 for a value a route checks itself (``raise invalid("query",
    "format", "…")``), in the same shape as FastAPI's own, which is what the
    API description declares for 422."""
    return RequestValidationError(
        [{"loc": [location, name], "msg": message, "type": "value_error"}]
    )


def describe_422(schema: dict[str, object]) -> dict[str, object]:
    """The API description of a 422, as the app answers it: FastAPI's list
    of errors for a request it could not read, or one message (a string)
    for a value a route refused itself (too long, unknown role, …). Patched
    into the generated schema so clients and the schema fuzzer expect both."""
    components = schema.get("components")
    if not isinstance(components, dict):
        return schema
    found = components.get("schemas", {}).get("HTTPValidationError")
    if not isinstance(found, dict):
        return schema
    detail = found.get("properties", {}).get("detail")
    if isinstance(detail, dict) and "anyOf" not in detail:
        found["properties"]["detail"] = {"anyOf": [detail, {"type": "string"}], "title": "Detail"}
    return schema
