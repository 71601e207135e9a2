"""One HTTP endpoint for every emulated AWS service: dispatch, signatures, errors, start and stop.

A request goes to a service by what AWS clients send: an ``X-Amz-Target``
header (JSON protocols such as Glue and Athena), the service of its SigV4
credential scope, a form ``Action=`` (STS), and otherwise S3, whose REST
paths are the rest; ``/console/`` is the console's (zfish.aws.console), before
S3 would take it as a bucket. werkzeug's threaded WSGI server carries it; it is
maintained, speaks HTTP/1.1 keep-alive, and needs no event loop in the
handlers, which do blocking file I/O.
"""

from __future__ import annotations

import errno
import json
import logging
import socket
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from moto.core.request import Request
from werkzeug.exceptions import ClientDisconnected
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Response

from zfish.aws.auth import Authenticator, signing_service
from zfish.aws.console import CONSOLE_PREFIX, Console
from zfish.aws.context import EndpointContext
from zfish.aws.protocol import Call, Service
from zfish.exceptions import AwsApiError, PrerequisiteError

HEALTH_PATHS = ("/_zfish/health", "/_localstack/health")
# JSON-protocol target prefixes, so a request reaches its service whatever it was signed for.
TARGET_PREFIXES = {
    "AWSGlue": "glue",
    "AmazonAthena": "athena",
    "AWSSecurityTokenServiceV20110615": "sts",
}
# An operation of each service whose model renders errors raised before routing.
_FALLBACK_OPERATION = {
    "s3": "ListBuckets",
    "sts": "GetCallerIdentity",
    "glue": "GetDatabases",
    "athena": "ListWorkGroups",
}

ServiceFactory = Callable[[EndpointContext], Service]
# The services an endpoint carries, in the order they are named in the banner.
SERVICES: dict[str, ServiceFactory] = {}

log = logging.getLogger("zfish.serve")


def register(name: str, factory: ServiceFactory) -> None:
    SERVICES[name] = factory


def _default_services() -> None:
    if SERVICES:
        return
    from zfish.aws import s3, sts

    register("s3", s3.service)
    register("sts", sts.service)
    from zfish.aws import athena, glue

    register("glue", glue.service)
    register("athena", athena.service)


class Endpoint:
    """The WSGI application: one request in, one AWS-shaped response out."""

    def __init__(
        self, context: EndpointContext, services: dict[str, Service] | None = None
    ) -> None:
        self.context = context
        if services is None:
            _default_services()
            services = {name: factory(context) for name, factory in SERVICES.items()}
        self.services = services
        self.authenticator = Authenticator(context.credentials)
        # The console calls this endpoint's APIs over HTTP like any client; its own sign-in
        # gate applies the same credentials.
        self.console = Console()

    def _service_for(self, request: Request) -> Service:
        target = request.headers.get("X-Amz-Target", "")
        if target:
            name = TARGET_PREFIXES.get(target.split(".", 1)[0], "")
            if name in self.services:
                return self.services[name]
        scoped = signing_service(request)
        if scoped in self.services and scoped != "s3":
            return self.services[scoped]
        if request.method == "POST" and request.path == "/" and "sts" in self.services:
            # Only here may the form be read: elsewhere the body is an object's bytes.
            form = request.mimetype == "application/x-www-form-urlencoded"
            if "Action" in request.args or (form and "Action" in request.form):
                return self.services["sts"]
        return self.services["s3"]

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        if request.path in HEALTH_PATHS:
            body = json.dumps(
                {"services": {name: "running" for name in self.services}, "edition": "zfish"}
            )
            return Response(body, mimetype="application/json")(environ, start_response)
        if request.path == CONSOLE_PREFIX or request.path.startswith(CONSOLE_PREFIX + "/"):
            return self.console(environ, start_response)
        # werkzeug sends no body for HEAD and keeps the Content-Length the response carries.
        return self.handle(request)(environ, start_response)

    def handle(self, request: Request) -> Response:
        service = self._service_for(request)
        request_id = uuid.uuid4().hex.upper()[:16]
        operation = None
        try:
            length = request.content_length
            if length is not None and length > self.context.max_body_bytes:
                raise AwsApiError(
                    "EntityTooLarge",
                    f"Your proposed upload ({length} bytes) exceeds the maximum allowed size "
                    f"({self.context.max_body_bytes} bytes; zfish serve --max-body-mb)",
                    status=400,
                    fields={
                        "ProposedSize": str(length),
                        "MaxSizeAllowed": str(self.context.max_body_bytes),
                    },
                )
            principal = self.authenticator.verify(request, service.name)
            operation, uri_params = service.operation_for(request)
            handler = service.handlers.get(operation.name)
            if handler is None:
                raise AwsApiError(
                    "NotImplemented",
                    f"zfish serve does not emulate {service.name} {operation.name}; "
                    "see the README's 'Use it from AWS tools' for what it does",
                    status=501,
                )
            params = service.parse(operation, request, uri_params)
            call = Call(service.name, operation.name, params, request, principal, request_id)
            result = handler(call)
            return service.response(operation, call, result)
        except AwsApiError as error:
            return self._error(service, operation, error, request_id)
        except ClientDisconnected:
            # The client went away mid-body (its bytes were dropped with their temp file);
            # nobody is left to read an answer or a traceback.
            return Response(status=400)
        except Exception as exc:  # a bug: answer like AWS does, keep serving, tell the operator
            traceback.print_exc(file=sys.stderr)
            internal = AwsApiError(
                "InternalError", f"zfish serve failed on this request: {exc}", status=500
            )
            return self._error(service, operation, internal, request_id)

    @staticmethod
    def _error(service: Service, operation: Any, error: AwsApiError, request_id: str) -> Response:
        """The error in the service's format; before routing, by a stand-in operation of its model."""
        if operation is None:
            name = _FALLBACK_OPERATION.get(service.name, service.model.operation_names[0])
            operation = service.model.operation_model(name)
        return service.error(operation, error, request_id)


class _QuietHandler(WSGIRequestHandler):
    # A connection silent this long is dropped, as S3 drops it (RequestTimeout after about
    # 20 s): a client that vanished mid-body no longer holds a thread and its temp file.
    timeout = 20

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if getattr(self.server, "log_requests", False):
            super().log_request(code, size)


@dataclass
class RunningServer:
    """A started endpoint: its URL, and how to stop it."""

    server: BaseWSGIServer
    context: EndpointContext
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.2)

    def start_in_thread(self) -> RunningServer:
        self.thread = threading.Thread(target=self.serve_forever, name="zfish-serve", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.context.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.context.close()


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PrerequisiteError(
                f"port {port} on {host} is already in use (another zfish serve or LocalStack?); "
                f"stop it, or pick another port: zfish serve --port {port + 1}"
            ) from exc
        raise PrerequisiteError(
            f"cannot listen on {host}:{port}: {exc.strerror}; check --host"
        ) from exc
    sock.listen(128)
    return sock


def create_server(
    context: EndpointContext,
    host: str = "127.0.0.1",
    port: int = 4566,
    *,
    log_requests: bool = False,
) -> RunningServer:
    """Bind the endpoint (port 0: any free port) without serving yet."""
    sock = _listening_socket(host, port)
    bound_port = sock.getsockname()[1]
    app = Endpoint(context)
    server = make_server(
        host, bound_port, app, threaded=True, request_handler=_QuietHandler, fd=sock.fileno()
    )
    # make_server dups the descriptor; ours can go.
    sock.close()
    server.log_requests = log_requests  # type: ignore[attr-defined]
    server.daemon_threads = True  # type: ignore[attr-defined]
    return RunningServer(server, context)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def banner(running: RunningServer) -> str:
    key, secret = running.context.credentials.first
    app = running.server.app
    assert isinstance(app, Endpoint)
    names = ", ".join(
        name.upper() if len(name) <= 3 else name.capitalize() for name in app.services
    )
    return (
        f"zfish serve: {names} on {running.url} over lake {running.context.layout.root} | "
        f"export AWS_ENDPOINT_URL={running.url} AWS_ACCESS_KEY_ID={key} "
        f"AWS_SECRET_ACCESS_KEY={secret} AWS_DEFAULT_REGION={running.context.region}"
    )


def run(
    context: EndpointContext,
    host: str,
    port: int,
    *,
    log_requests: bool = False,
    warn: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM, then stop cleanly."""
    import signal

    if not _is_loopback(host) and warn is not None:
        warn(
            f"listening on {host}, not loopback: anyone who can reach this machine and knows the "
            "credentials can read and write the lake"
        )
    running = create_server(context, host, port, log_requests=log_requests)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        running.start_in_thread()
        print(banner(running), flush=True)
        while not stop.wait(0.5):
            if running.thread is not None and not running.thread.is_alive():
                break
    finally:
        running.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("zfish serve: stopped", flush=True)
