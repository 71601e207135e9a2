"""STS ``GetCallerIdentity``: the first call many tools make to check their credentials."""

from __future__ import annotations

from typing import Any

from zfish.aws.context import ACCOUNT_ID, EndpointContext
from zfish.aws.protocol import Call, Service


def service(context: EndpointContext) -> Service:
    def get_caller_identity(call: Call) -> dict[str, Any]:
        key = getattr(call.principal, "access_key", "anonymous")
        return {"UserId": key, "Account": ACCOUNT_ID, "Arn": f"arn:aws:iam::{ACCOUNT_ID}:root"}

    return Service("sts", {"GetCallerIdentity": get_caller_identity})
