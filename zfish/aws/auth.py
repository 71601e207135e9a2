"""Who is calling: AWS signatures (SigV4 and SigV2, headers and presigned URLs) checked with botocore's signers.

The server recomputes each signature with botocore's own signer classes over
exactly what the client signed (its ``SignedHeaders``, its timestamp, the
path as it was sent), so the canonical forms are the SDK's, not a copy of
them. Credentials are one key pair, ``test``/``test`` by default as in
LocalStack, set by ``--access-key``/``--secret-key`` or
``ZFISH_AWS_ACCESS_KEY_ID``/``ZFISH_AWS_SECRET_ACCESS_KEY``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote, urlsplit

from botocore.auth import HmacV1Auth, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials
from werkzeug.wrappers import Request

from zfish.exceptions import AwsApiError

ENV_ACCESS_KEY = "ZFISH_AWS_ACCESS_KEY_ID"
ENV_SECRET_KEY = "ZFISH_AWS_SECRET_ACCESS_KEY"
DEFAULT_ACCESS_KEY = "test"
DEFAULT_SECRET_KEY = "test"
# S3 refuses a request signed more than 15 minutes away from its own clock.
MAX_SKEW_SECONDS = 15 * 60
# The longest a SigV4 presigned URL may live (7 days).
MAX_PRESIGN_SECONDS = 7 * 24 * 3600

_V4_HEADER = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<sig>[0-9a-f]+)"
)
_V2_HEADER = re.compile(r"AWS (?P<key>[^:]+):(?P<sig>\S+)")
_V4_TIMESTAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class CredentialStore:
    """The key pairs the endpoint accepts, by access key id."""

    secrets: dict[str, str]

    @classmethod
    def single(
        cls, access_key: str | None = None, secret_key: str | None = None
    ) -> CredentialStore:
        key = access_key or os.environ.get(ENV_ACCESS_KEY) or DEFAULT_ACCESS_KEY
        secret = secret_key or os.environ.get(ENV_SECRET_KEY) or DEFAULT_SECRET_KEY
        return cls({key: secret})

    @property
    def first(self) -> tuple[str, str]:
        return next(iter(self.secrets.items()))


@dataclass(frozen=True)
class Verified:
    """A request whose signature checked out."""

    access_key: str
    method: str  # "sigv4", "sigv4-presigned", "sigv2", "sigv2-presigned"
    payload_hash: str | None = None  # SigV4's x-amz-content-sha256 (S3), as signed
    timestamp: str | None = None
    scope: str | None = None
    signing_key: bytes | None = None
    seed_signature: str | None = None

    def chunk_signature(self, previous: str, chunk_sha256: str) -> str:
        """The signature of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)."""
        return self._chain(
            "AWS4-HMAC-SHA256-PAYLOAD", previous, _EMPTY_SHA256 + "\n" + chunk_sha256
        )

    def trailer_signature(self, previous: str, trailer_sha256: str) -> str:
        """The signature of an aws-chunked trailer (…-PAYLOAD-TRAILER)."""
        return self._chain("AWS4-HMAC-SHA256-TRAILER", previous, trailer_sha256)

    def _chain(self, algorithm: str, previous: str, tail: str) -> str:
        if self.signing_key is None or self.timestamp is None or self.scope is None:
            raise AwsApiError(
                "AccessDenied",
                "a signed aws-chunked body needs a SigV4 header signature",
                status=403,
            )
        text = "\n".join([algorithm, self.timestamp, self.scope, previous, tail])
        return hmac.new(self.signing_key, text.encode(), hashlib.sha256).hexdigest()


_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class _ExactSigV4(SigV4Auth):  # type: ignore[misc]
    """botocore's SigV4 over the headers the client listed, at the client's timestamp."""

    def __init__(
        self, credentials: Credentials, service: str, region: str, signed: list[str]
    ) -> None:
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        chosen = HTTPHeaders()
        for name in self._signed:
            for value in request.headers.get_all(name) or [""]:
                chosen[name] = value
        return chosen

    def signing_key(self, timestamp: str) -> bytes:
        key = self.credentials.secret_key
        k_date = self._sign(f"AWS4{key}".encode(), timestamp[0:8])
        k_region = self._sign(k_date, self._region_name)
        k_service = self._sign(k_region, self._service_name)
        return bytes(self._sign(k_service, "aws4_request"))


class _ExactS3SigV4(_ExactSigV4, S3SigV4Auth):  # type: ignore[misc]
    """The same for S3, which signs the path as sent (no normalisation)."""

    def _normalize_url_path(self, path: str) -> str:
        return path


class _ExactHmacV1(HmacV1Auth):  # type: ignore[misc]
    """botocore's SigV2 (HMAC-SHA1) with the request's own Date (or Expires, when presigned)."""

    def __init__(self, credentials: Credentials, date: str) -> None:
        super().__init__(credentials)
        self._date = date

    def _get_date(self) -> str:
        return self._date


def _url_candidates(raw_path: str) -> Iterator[str]:
    """The path as sent, then re-encoded the way the SigV4 spec encodes it (clients differ)."""
    yield raw_path
    respec = quote(unquote(raw_path), safe="/~")
    if respec != raw_path:
        yield respec


def _headers_of(request: Request) -> HTTPHeaders:
    headers = HTTPHeaders()
    for name, value in request.headers.items():
        headers[name.lower()] = value
    return headers


def _raw_path(request: Request) -> str:
    raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    path = raw_uri.split("?", 1)[0]
    if "://" in path:
        path = urlsplit(path).path
    return path or "/"


def _denied(code: str, message: str) -> AwsApiError:
    return AwsApiError(code, message, status=403)


def _unknown_key(service: str, key: str) -> AwsApiError:
    if service == "s3":
        return _denied(
            "InvalidAccessKeyId",
            f"The AWS Access Key Id you provided does not exist in our records: {key!r}. "
            "zfish serve accepts the key it printed at start (default 'test'); "
            "set AWS_ACCESS_KEY_ID to it.",
        )
    return _denied(
        "UnrecognizedClientException",
        f"The security token included in the request is invalid (unknown access key {key!r}); "
        "use the key zfish serve printed at start.",
    )


def _mismatch(service: str) -> AwsApiError:
    message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method: zfish serve printed the secret it accepts."
    )
    if service == "s3":
        return _denied("SignatureDoesNotMatch", message)
    return _denied("InvalidSignatureException", message)


def _check_skew(stamp: datetime, now: datetime, service: str) -> None:
    if abs((now - stamp).total_seconds()) > MAX_SKEW_SECONDS:
        code = "RequestTimeTooSkewed" if service == "s3" else "InvalidSignatureException"
        raise _denied(
            code,
            f"The difference between the request time ({stamp:%Y-%m-%dT%H:%M:%SZ}) and the server "
            f"time ({now:%Y-%m-%dT%H:%M:%SZ}) is too large; fix this machine's clock.",
        )


class Authenticator:
    """Checks one request's signature against the credential store."""

    def __init__(self, credentials: CredentialStore) -> None:
        self.credentials = credentials

    def verify(self, request: Request, service: str, *, now: datetime | None = None) -> Verified:
        now = now or datetime.now(UTC)
        header = request.headers.get("Authorization", "")
        args = request.args
        if header.startswith("AWS4-HMAC-SHA256"):
            return self._v4_header(request, header, service, now)
        if args.get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256":
            return self._v4_query(request, service, now)
        if header.startswith("AWS "):
            return self._v2_header(request, header, service, now)
        if "Signature" in args and "AWSAccessKeyId" in args:
            return self._v2_query(request, service, now)
        if header:
            raise _denied("AccessDenied", f"unsupported Authorization scheme {header.split()[0]!r}")
        raise _denied(
            "AccessDenied",
            "Anonymous access is not allowed: sign requests with the credentials zfish serve printed "
            "(e.g. export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test).",
        )

    def _secret(self, key: str, service: str) -> str:
        secret = self.credentials.secrets.get(key)
        if secret is None:
            raise _unknown_key(service, key)
        return secret

    def _v4(
        self,
        request: Request,
        *,
        credential: str,
        signed: list[str],
        signature: str,
        timestamp: str,
        query: str,
        payload: str | None,
        service: str,
        method: str,
    ) -> Verified:
        parts = credential.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            raise _denied(
                "AuthorizationHeaderMalformed", f"malformed credential scope {credential!r}"
            )
        key, day, region, scoped_service, _ = parts
        secret = self._secret(key, service)
        creds = Credentials(key, secret)
        signer_cls = _ExactS3SigV4 if scoped_service == "s3" else _ExactSigV4
        signer = signer_cls(creds, scoped_service, region, signed)
        headers = _headers_of(request)
        if payload is not None and "x-amz-content-sha256" not in headers:
            headers["X-Amz-Content-SHA256"] = payload
        body = b"" if payload is not None or scoped_service == "s3" else request.get_data()
        host = request.headers.get("Host", "")
        for path in _url_candidates(_raw_path(request)):
            url = f"http://{host}{path}" + (f"?{query}" if query else "")
            aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=body)
            aws_request.context["timestamp"] = timestamp
            canonical = signer.canonical_request(aws_request)
            expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
            if hmac.compare_digest(expected, signature):
                return Verified(
                    access_key=key,
                    method=method,
                    payload_hash=request.headers.get("X-Amz-Content-Sha256") or payload,
                    timestamp=timestamp,
                    scope=f"{day}/{region}/{scoped_service}/aws4_request",
                    signing_key=signer.signing_key(timestamp),
                    seed_signature=signature,
                )
        raise _mismatch(service)

    def _v4_header(self, request: Request, header: str, service: str, now: datetime) -> Verified:
        match = _V4_HEADER.search(header)
        if match is None:
            raise _denied(
                "AuthorizationHeaderMalformed", "the SigV4 Authorization header is malformed"
            )
        timestamp = request.headers.get("X-Amz-Date") or ""
        stamp = (
            _parse_v4_time(timestamp)
            if timestamp
            else _parse_http_date(request.headers.get("Date", ""))
        )
        if stamp is None:
            raise _denied("AccessDenied", "a SigV4 request needs an X-Amz-Date or Date header")
        _check_skew(stamp, now, service)
        if not timestamp:
            timestamp = stamp.strftime(_V4_TIMESTAMP)
        query = request.query_string.decode("latin-1")
        return self._v4(
            request,
            credential=match["cred"],
            signed=match["signed"].split(";"),
            signature=match["sig"],
            timestamp=timestamp,
            query=query,
            payload=None,
            service=service,
            method="sigv4",
        )

    def _v4_query(self, request: Request, service: str, now: datetime) -> Verified:
        args = request.args
        timestamp = args.get("X-Amz-Date", "")
        stamp = _parse_v4_time(timestamp)
        try:
            expires = int(args.get("X-Amz-Expires", "0"))
        except ValueError:
            expires = -1
        if stamp is None or not 0 < expires <= MAX_PRESIGN_SECONDS:
            raise _denied(
                "AuthorizationQueryParametersError",
                "X-Amz-Date or X-Amz-Expires is missing or invalid",
            )
        if (now - stamp).total_seconds() > expires:
            raise _denied("AccessDenied", "Request has expired")
        if (stamp - now).total_seconds() > MAX_SKEW_SECONDS:
            raise _denied("AccessDenied", "Request is not valid yet (X-Amz-Date is in the future)")
        raw_query = request.query_string.decode("latin-1")
        query = "&".join(p for p in raw_query.split("&") if not p.startswith("X-Amz-Signature="))
        return self._v4(
            request,
            credential=args.get("X-Amz-Credential", ""),
            signed=args.get("X-Amz-SignedHeaders", "host").split(";"),
            signature=args.get("X-Amz-Signature", ""),
            timestamp=timestamp,
            query=query,
            payload="UNSIGNED-PAYLOAD",
            service=service,
            method="sigv4-presigned",
        )

    def _v2(
        self, request: Request, key: str, signature: str, date: str, service: str, method: str
    ) -> Verified:
        secret = self._secret(key, service)
        signer = _ExactHmacV1(Credentials(key, secret), date)
        headers = _headers_of(request)
        query = "&".join(
            p
            for p in request.query_string.decode("latin-1").split("&")
            if p.split("=", 1)[0] not in ("Signature", "AWSAccessKeyId", "Expires")
        )
        raw = _raw_path(request)
        candidates = list(_url_candidates(raw))
        if raw.count("/") == 1 and len(raw) > 1:
            # botocore signs a bucket-level SigV2 request's resource as "/bucket/", sends "/bucket".
            candidates.append(raw + "/")
        for path in candidates:
            split = urlsplit(f"http://host{path}" + (f"?{query}" if query else ""))
            expected = signer.get_signature(request.method, split, headers)
            if hmac.compare_digest(expected, signature):
                return Verified(access_key=key, method=method)
        raise _mismatch(service)

    def _v2_header(self, request: Request, header: str, service: str, now: datetime) -> Verified:
        match = _V2_HEADER.match(header)
        if match is None:
            raise _denied("AccessDenied", "the SigV2 Authorization header is malformed")
        date = request.headers.get("Date", "")
        stamp = _parse_http_date(request.headers.get("X-Amz-Date", "") or date)
        if stamp is None:
            raise _denied("AccessDenied", "a SigV2 request needs a Date or X-Amz-Date header")
        _check_skew(stamp, now, service)
        return self._v2(request, match["key"], match["sig"], date, service, "sigv2")

    def _v2_query(self, request: Request, service: str, now: datetime) -> Verified:
        args = request.args
        expires = args.get("Expires", "")
        if not expires.isdigit():
            raise _denied("AccessDenied", "a SigV2 presigned URL needs a numeric Expires")
        if int(expires) < now.timestamp():
            raise _denied("AccessDenied", "Request has expired")
        return self._v2(
            request, args["AWSAccessKeyId"], args["Signature"], expires, service, "sigv2-presigned"
        )


def _parse_v4_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, _V4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _parse_http_date(text: str) -> datetime | None:
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return _parse_v4_time(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def signing_service(request: Request) -> str | None:
    """The service named in a SigV4 credential scope, if the request has one."""
    header = request.headers.get("Authorization", "")
    match = _V4_HEADER.search(header)
    credential = match["cred"] if match else request.args.get("X-Amz-Credential", "")
    parts = credential.split("/")
    return parts[3] if len(parts) == 5 else None
