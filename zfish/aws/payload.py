"""Request bodies as S3 receives them: aws-chunked decoding, chunk signatures, digests and checksums.

A body is read once, in chunks, while the MD5 (the ETag), the SHA-256 that
SigV4 signed and the ``x-amz-checksum-*`` value the client sent are
computed; :meth:`BodyReader.verify` runs before anything is made visible,
so a mismatch writes nothing. The checksum algorithms are botocore's own
(CRC32C and CRC64NVME through awscrt).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from collections.abc import Iterator
from typing import IO, Any

from botocore.httpchecksum import (
    Crc32Checksum,
    CrtCrc32cChecksum,
    CrtCrc64NvmeChecksum,
    Sha1Checksum,
    Sha256Checksum,
)

from zfish.aws.auth import Verified
from zfish.exceptions import AwsApiError

READ_SIZE = 1024 * 1024
CHECKSUM_ALGORITHMS: dict[str, Any] = {
    "crc32": Crc32Checksum,
    "crc32c": CrtCrc32cChecksum,
    "crc64nvme": CrtCrc64NvmeChecksum,
    "sha1": Sha1Checksum,
    "sha256": Sha256Checksum,
}
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
_MAX_CHUNK_HEADER = 4096


def _bad_digest(message: str) -> AwsApiError:
    return AwsApiError("BadDigest", message, status=400)


def _incomplete(message: str) -> AwsApiError:
    return AwsApiError("IncompleteBody", message, status=400)


class BodyReader:
    """Reads one request body, decoding aws-chunked framing and hashing as it goes."""

    def __init__(
        self,
        stream: IO[bytes],
        headers: Any,
        principal: Verified | None,
        *,
        max_bytes: int,
        content_length: int | None,
    ) -> None:
        buffered: Any = stream if hasattr(stream, "peek") else io.BufferedReader(stream, READ_SIZE)
        self._stream = buffered
        self.headers = headers
        self.principal = principal
        self.max_bytes = max_bytes
        self.payload_mode = (
            headers.get("X-Amz-Content-Sha256")
            or (principal.payload_hash if principal else None)
            or UNSIGNED
        )
        encoding = [e.strip() for e in headers.get("Content-Encoding", "").split(",") if e.strip()]
        self.chunked = "aws-chunked" in encoding or self.payload_mode.startswith("STREAMING-")
        decoded = headers.get("X-Amz-Decoded-Content-Length")
        self.expected_length = (
            int(decoded)
            if decoded and decoded.isdigit()
            else (None if self.chunked else content_length)
        )
        self.md5 = hashlib.md5()
        self.sha256 = hashlib.sha256() if len(self.payload_mode) == 64 else None
        self.size = 0
        self.trailers: dict[str, str] = {}
        self.checksum_name = self._declared_checksum()
        self._checksum = CHECKSUM_ALGORITHMS[self.checksum_name]() if self.checksum_name else None
        self._previous_signature = principal.seed_signature if principal else None

    def _declared_checksum(self) -> str | None:
        names = [
            n
            for n in CHECKSUM_ALGORITHMS
            if f"x-amz-checksum-{n}" in {k.lower() for k in self.headers.keys()}  # noqa: SIM118 (werkzeug Headers iterate as pairs)
        ]
        trailer = self.headers.get("X-Amz-Trailer", "").strip().lower()
        if trailer.startswith("x-amz-checksum-"):
            names.append(trailer.removeprefix("x-amz-checksum-"))
        algorithm = self.headers.get("X-Amz-Sdk-Checksum-Algorithm", "").lower()
        if not names and algorithm in CHECKSUM_ALGORITHMS:
            names.append(algorithm)
        for name in names:
            if name not in CHECKSUM_ALGORITHMS:
                raise AwsApiError("InvalidRequest", f"unsupported checksum algorithm {name!r}")
        return names[0] if names else None

    def _take(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise AwsApiError(
                "EntityTooLarge",
                f"the body exceeds the maximum allowed size of {self.max_bytes} bytes (zfish serve --max-body-mb)",
            )
        self.md5.update(data)
        if self.sha256 is not None:
            self.sha256.update(data)
        if self._checksum is not None:
            self._checksum.update(data)
        return data

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks() if self.chunked else self._plain()

    def _plain(self) -> Iterator[bytes]:
        remaining = self.expected_length
        while remaining is None or remaining > 0:
            data = self._stream.read(READ_SIZE if remaining is None else min(READ_SIZE, remaining))
            if not data:
                break
            if remaining is not None:
                remaining -= len(data)
            yield self._take(data)
        if remaining:
            raise _incomplete(f"the body ended {remaining} bytes short of its Content-Length")

    def _line(self) -> bytes:
        line: bytes = self._stream.readline(_MAX_CHUNK_HEADER)
        if not line.endswith(b"\n"):
            raise _incomplete("an aws-chunked body ended inside a chunk header")
        return line.rstrip(b"\r\n")

    def _chunks(self) -> Iterator[bytes]:
        signed = self.payload_mode in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER)
        while True:
            header = self._line().decode("latin-1")
            size_text, _, extension = header.partition(";")
            try:
                size = int(size_text.strip(), 16)
            except ValueError:
                raise _incomplete(f"malformed aws-chunked chunk header {header[:80]!r}") from None
            data = self._read_exact(size)
            if signed:
                self._check_chunk(extension, data)
            if size == 0:
                break
            if self._read_exact(2) != b"\r\n":
                raise _incomplete("an aws-chunked chunk is not followed by CRLF")
            yield self._take(data)
        self._read_trailers(signed)
        if self.expected_length is not None and self.size != self.expected_length:
            raise _incomplete(
                f"the decoded body is {self.size} bytes but x-amz-decoded-content-length says {self.expected_length}"
            )

    def _read_exact(self, size: int) -> bytes:
        # Raw streams may return less than asked for; only an empty read is the end.
        parts, remaining = [], size
        while remaining > 0:
            data = self._stream.read(remaining)
            if not data:
                raise _incomplete("an aws-chunked body ended inside a chunk")
            parts.append(data)
            remaining -= len(data)
        return b"".join(parts)

    def _check_chunk(self, extension: str, data: bytes) -> None:
        key, _, signature = extension.partition("=")
        if (
            key.strip() != "chunk-signature"
            or self.principal is None
            or self._previous_signature is None
        ):
            raise AwsApiError(
                "SignatureDoesNotMatch", "an aws-chunked chunk has no chunk-signature", status=403
            )
        expected = self.principal.chunk_signature(
            self._previous_signature, hashlib.sha256(data).hexdigest()
        )
        if signature.strip() != expected:
            raise AwsApiError(
                "SignatureDoesNotMatch", "an aws-chunked chunk signature does not match", status=403
            )
        self._previous_signature = expected

    def _read_trailers(self, signed: bool) -> None:
        lines: list[str] = []
        while True:
            raw = self._stream.readline(_MAX_CHUNK_HEADER)
            if not raw or raw in (b"\r\n", b"\n"):
                break
            lines.append(raw.decode("latin-1").rstrip("\r\n"))
        signature = None
        canonical = ""
        for line in lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "x-amz-trailer-signature":
                signature = value.strip()
                continue
            self.trailers[name] = value.strip()
            canonical += f"{name}:{value.strip()}\n"
        if signed and self.payload_mode == STREAMING_SIGNED_TRAILER:
            if signature is None or self.principal is None or self._previous_signature is None:
                raise AwsApiError(
                    "SignatureDoesNotMatch", "the aws-chunked trailer is not signed", status=403
                )
            expected = self.principal.trailer_signature(
                self._previous_signature, hashlib.sha256(canonical.encode()).hexdigest()
            )
            if signature != expected:
                raise AwsApiError(
                    "SignatureDoesNotMatch",
                    "the aws-chunked trailer signature does not match",
                    status=403,
                )

    def drain(self) -> None:
        """Read the whole body (hashing it) without keeping it."""
        for _ in self:
            pass

    def verify(self) -> dict[str, str]:
        """Check every digest the client sent; returns the object's checksum as ``{name: b64}``."""
        sent_md5 = self.headers.get("Content-MD5")
        if sent_md5:
            try:
                wanted = base64.b64decode(sent_md5, validate=True)
            except (binascii.Error, ValueError):
                raise AwsApiError(
                    "InvalidDigest", "The Content-MD5 you specified is not valid base64"
                ) from None
            if wanted != self.md5.digest():
                raise _bad_digest("The Content-MD5 you specified did not match what we received.")
        if self.sha256 is not None and self.sha256.hexdigest() != self.payload_mode:
            raise AwsApiError(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        if self._checksum is None or self.checksum_name is None:
            return {}
        header = f"x-amz-checksum-{self.checksum_name}"
        sent = self.trailers.get(header) or self.headers.get(header)
        computed = str(self._checksum.b64digest())
        if sent is not None and sent != computed:
            raise _bad_digest(
                f"The {self.checksum_name.upper()} you specified did not match the calculated checksum."
            )
        return {self.checksum_name: computed}

    @property
    def etag(self) -> str:
        return self.md5.hexdigest()
