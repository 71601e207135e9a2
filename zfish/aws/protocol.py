"""AWS wire protocols through moto's protocol layer: route, parse and serialize by botocore's models.

zfish writes the behaviour (what an operation does to the lake); the request
routing (REST URI templates, ``X-Amz-Target``, ``Action=``), the parsing of
parameters and the XML/JSON response shapes come from moto 5.2's protocol
layer, which reads botocore's service models. A handler receives a
:class:`Call` with the parsed parameters and returns the operation's output as
a dict (or raises :class:`~zfish.exceptions.AwsApiError`).
"""

from __future__ import annotations

import base64
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.core.parse import PROTOCOL_PARSERS
from moto.core.request import Request
from moto.core.routing import get_service_router
from moto.core.serialize import SerializationContext, get_serializer_class
from moto.core.utils import get_service_model
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from zfish.exceptions import AwsApiError

# moto warns when an error code is not in the service model (S3's model lists few); we map
# the codes and statuses ourselves.
warnings.filterwarnings("ignore", category=UserWarning, module=r"moto\..*")


def offset_token(offset: int) -> str:
    """A pagination token (NextToken) for the item at ``offset`` of a listing."""
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def token_offset(call: Call, code: str) -> int:
    """The offset a call's NextToken stands for (0 without one); a token we did not make is ``code``."""
    token = call.params.get("NextToken")
    if not token:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(str(token).encode()).decode())
    except (ValueError, UnicodeDecodeError):
        offset = -1
    if offset < 0:
        raise AwsApiError(code, "The NextToken is not valid")
    return offset


Handler = Callable[["Call"], Mapping[str, Any] | Response | None]


@dataclass
class Call:
    """One parsed API call as a handler sees it."""

    service: str
    operation: str
    params: dict[str, Any]
    request: Request
    principal: Any = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex.upper()[:16])
    # Response headers beyond the output shape (e.g. S3's x-amz-checksum-* on a PUT).
    extra_headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None


class Service:
    """One AWS service: its botocore model and zfish's handlers by operation name."""

    def __init__(self, name: str, handlers: Mapping[str, Handler]) -> None:
        self.name = name
        self.model = get_service_model(name)
        self.protocol = str(self.model.protocol)
        self.handlers = dict(handlers)
        self._router = get_service_router(name) if self.protocol.startswith("rest") else None
        unknown = set(self.handlers) - set(self.model.operation_names)
        if unknown:
            raise ValueError(f"{name}: handlers for operations not in the model: {sorted(unknown)}")

    def operation_for(self, request: Request) -> tuple[Any, dict[str, Any]]:
        """The operation model a request targets, and its URI parameters."""
        if self._router is not None:
            try:
                operation, uri_params = self._router.match(request)
            except NotFound:
                raise AwsApiError(
                    "MethodNotAllowed" if self.name == "s3" else "UnknownOperationException",
                    f"no {self.name} operation for {request.method} {request.path}",
                    status=405 if self.name == "s3" else 400,
                ) from None
            return operation, dict(uri_params)
        target = request.headers.get("X-Amz-Target", "")
        name = target.rpartition(".")[2] if target else request.values.get("Action", "")
        if name not in self.model.operation_names:
            raise AwsApiError(
                "UnknownOperationException" if target else "InvalidAction",
                f"{self.name} has no operation {name!r}",
            )
        return self.model.operation_model(name), {}

    def parse(self, operation: Any, request: Request, uri_params: dict[str, Any]) -> dict[str, Any]:
        """The operation's input parameters; a streaming blob payload is left unread."""
        payload = (
            operation.input_shape.serialization.get("payload") if operation.input_shape else None
        )
        streaming = (
            payload is not None and operation.input_shape.members[payload].type_name == "blob"
        )
        body: bytes = b"" if streaming else request.get_data()
        parser = PROTOCOL_PARSERS[self.protocol](operation)
        try:
            return dict(
                parser.parse(
                    {
                        "method": request.method,
                        # REST services take parameters from the query only: reading the form
                        # would consume an object body sent as x-www-form-urlencoded.
                        "values": request.args
                        if self.protocol.startswith("rest")
                        else request.values,
                        "headers": request.headers,
                        "body": body,
                        "url_path": request.path,
                        "url_params": uri_params,
                    }
                )
            )
        except Exception as exc:  # the parser raises bare ValueErrors on malformed input
            code = "MalformedXML" if self.protocol == "rest-xml" else "SerializationException"
            raise AwsApiError(
                code, f"the request body or parameters could not be read: {exc}"
            ) from exc

    def response(
        self, operation: Any, call: Call, result: Mapping[str, Any] | Response | None
    ) -> Response:
        """Serialize a handler's result; a streaming ``Body`` is passed through unread.

        A handler may also return a finished :class:`Response` (S3's listings render their
        own XML; see :mod:`zfish.aws.s3`).
        """
        if isinstance(result, Response):
            result.headers.setdefault("x-amz-request-id", call.request_id)
            return result
        data = dict(result or {})
        stream: Iterable[bytes] | None = None
        output = operation.output_shape
        payload = output.serialization.get("payload") if output is not None else None
        if payload is not None and output.members[payload].type_name == "blob":
            stream = data.pop(payload, None)
        serializer = get_serializer_class(self.name, self.protocol)(
            operation, context=SerializationContext(request_id=call.request_id)
        )
        rendered = serializer.serialize(data)
        headers = {str(k): str(v) for k, v in rendered["headers"].items()}
        headers.update(call.extra_headers)
        status = call.status or int(rendered["status_code"])
        body: Any = rendered["body"] if stream is None else stream
        if call.request.method == "HEAD":
            # An iterable body keeps the Content-Length the output shape set (a bytes body resets it).
            body = []
        return Response(body, status=status, headers=headers)

    def error(self, operation: Any, error: AwsApiError, request_id: str) -> Response:
        """An error in the service's own error format, with the status AWS gives it."""
        serializer = get_serializer_class(self.name, self.protocol)(
            operation, context=SerializationContext(request_id=request_id)
        )
        rendered = serializer.serialize(error)
        headers = {str(k): str(v) for k, v in rendered["headers"].items()}
        headers.update(error.headers)
        headers.setdefault("x-amz-request-id", request_id)
        headers.setdefault("x-amzn-RequestId", request_id)
        body = rendered["body"]
        return Response(body if body else b"", status=error.status, headers=headers)
