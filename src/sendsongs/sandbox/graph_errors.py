"""Graph API error bodies: the `{"error": {...}}` shape and the named errors faults produce.

Sources, as read in 2026:

- the body's fields: https://developers.facebook.com/docs/graph-api/guides/error-handling
- Messenger's codes: https://developers.facebook.com/docs/messenger-platform/error-codes
- throttling codes and usage headers:
  https://developers.facebook.com/docs/graph-api/overview/rate-limiting
  (X-App-Usage carries call_count / total_cputime / total_time as percentages;
  X-Business-Use-Case-Usage adds `type` and `estimated_time_to_regain_access`, in
  minutes, keyed by the business object id — for the Send API, the Page)
- 80006's wording is the Graph reference's error table for Page edges;
  551/1545041 and 10/1893063 (with its `error_user_msg`) are bodies bot developers
  published from real sends; -1/2018012 is reported Send API traffic whose exact
  wording no public page states.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.responses import JSONResponse, Response

UsageHeader = Literal["business", "app"]

OUTSIDE_WINDOW = (
    "(#10) This message is sent outside of allowed window. Learn more about the new policy"
    " here: https://developers.facebook.com/docs/messenger-platform/policy-overview"
)


def graph_error_body(
    message: str,
    code: int,
    subcode: int | None = None,
    error_type: str = "OAuthException",
    is_transient: bool = False,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The inside of a Graph API `{"error": ...}` body."""
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient:
        error["is_transient"] = True
    error.update(extra or {})
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)[:22]
    return error


class GraphError(Exception):
    """A refusal the Graph API would answer with `400 {"error": {...}}`."""

    def __init__(
        self,
        message: str,
        code: int,
        subcode: int | None = None,
        error_type: str = "OAuthException",
    ) -> None:
        super().__init__(message)
        self.body = graph_error_body(message, code, subcode, error_type)
        self.headers: dict[str, str] = {}
        if code == 190:
            # Graph repeats an invalid token's reason in this header.
            self.headers["WWW-Authenticate"] = (
                f'OAuth "Facebook Platform" "invalid_token" "{message}"'
            )

    def response(self) -> Response:
        return JSONResponse({"error": self.body}, status_code=400, headers=self.headers)


@dataclass(frozen=True)
class NamedError:
    """One Graph refusal a fault can stand in for."""

    code: int
    subcode: int | None
    message: str
    throttle: bool = False  # counts against a rate limit; usage headers apply
    transient: bool = False
    error_type: str = "OAuthException"
    extra: dict[str, str] = field(default_factory=dict)
    usage_type: str = "messenger"  # the X-Business-Use-Case-Usage `type`
    all_graph_calls: bool = False  # also refuses profile look-ups, not only sends


NAMED_ERRORS: dict[str, NamedError] = {
    "app_limit": NamedError(4, None, "(#4) Application request limit reached", True, True),
    "user_limit": NamedError(17, None, "(#17) User request limit reached", True, True),
    "page_limit": NamedError(
        32, None, "(#32) Page request limit reached", True, True, usage_type="pages"
    ),
    "rate_limit": NamedError(
        613, None, "(#613) Calls to this api have exceeded the rate limit.", True, True
    ),
    "messenger_limit": NamedError(
        80006,
        None,
        "(#80006) There have been too many messenger api calls to this Page account. Wait a"
        " bit and try again. For more info, please refer to"
        " https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
        True,
        True,
    ),
    "internal_error": NamedError(
        -1, 2018012, "(#-1) Send API unexpected internal error", False, True
    ),
    "page_restricted": NamedError(
        10,
        1893063,
        "Application does not have permission for this action",
        extra={
            "error_user_msg": "You are temporarily restricted from sending messages.  Learn"
            " more about when and why we restrict messaging."
        },
    ),
    "session_invalidated": NamedError(
        190,
        460,
        "Error validating access token: The session has been invalidated because the user"
        " changed their password or Facebook has changed the session for security reasons.",
        all_graph_calls=True,
    ),
    "unavailable": NamedError(551, 1545041, "(#551) This person isn't available right now."),
    "outside_window": NamedError(10, 2018278, OUTSIDE_WINDOW),
}


def named_error_response(
    name: str,
    status: int,
    page_id: str,
    usage_header: UsageHeader | None,
    regain_minutes: float,
    retry_after: float | None,
) -> Response:
    """The response Graph gives for `name`, with the usage header a throttled app sees."""
    named = NAMED_ERRORS[name]
    body = graph_error_body(
        named.message, named.code, named.subcode, named.error_type, named.transient, named.extra
    )
    headers: dict[str, str] = {}
    if named.code == 190:
        headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{named.message}"'
    if usage_header == "business":
        usage = {
            "type": named.usage_type,
            "call_count": 100,
            "total_cputime": 27,
            "total_time": 31,
            "estimated_time_to_regain_access": round(regain_minutes),
        }
        headers["X-Business-Use-Case-Usage"] = json.dumps({page_id: [usage]}, separators=(",", ":"))
    elif usage_header == "app":
        headers["X-App-Usage"] = json.dumps(
            {"call_count": 100, "total_cputime": 27, "total_time": 31}, separators=(",", ":")
        )
    if retry_after is not None:
        headers["Retry-After"] = str(max(0, round(retry_after)))
    return JSONResponse({"error": body}, status_code=status, headers=headers)
