"""The S3 API over the lake, through boto3 as users' code calls it."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import time
import urllib.error
import urllib.request
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.conftest import Live, start_in_thread

BUCKET = "my-data-bucket"


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def _status(excinfo: pytest.ExceptionInfo[ClientError]) -> int:
    return int(excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"])


@pytest.fixture
def s3(endpoint: Live) -> object:
    client = endpoint.client()
    client.create_bucket(Bucket=BUCKET)
    return client


def _day_keys(days: int, per_day: int) -> list[str]:
    start = datetime(2025, 4, 1)
    return [
        f"use-cases/fish-demo/observations/day={(start + timedelta(days=d)):%Y-%m-%d}/fish_{d:03d}_{i:02d}.json"
        for d in range(days)
        for i in range(per_day)
    ]


def _write_directly(root: Path, keys: list[str]) -> None:
    for key in keys:
        path = root / BUCKET / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key.encode())


def test_buckets_are_the_lake_root_folders(endpoint: Live) -> None:
    s3 = endpoint.client()
    s3.create_bucket(Bucket="alpha-bucket")
    (endpoint.root / "beta-bucket").mkdir()
    (endpoint.root / "Not_A_Bucket").mkdir()
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == ["alpha-bucket", "beta-bucket"]
    s3.head_bucket(Bucket="beta-bucket")
    assert s3.get_bucket_location(Bucket="alpha-bucket")["LocationConstraint"] is None
    with pytest.raises(ClientError) as missing:
        s3.list_objects_v2(Bucket="no-such-bucket")
    assert _code(missing) == "NoSuchBucket"
    s3.put_object(Bucket="alpha-bucket", Key="k", Body=b"1")
    with pytest.raises(ClientError) as full:
        s3.delete_bucket(Bucket="alpha-bucket")
    assert _code(full) == "BucketNotEmpty"
    s3.delete_object(Bucket="alpha-bucket", Key="k")
    s3.delete_bucket(Bucket="alpha-bucket")
    assert not (endpoint.root / "alpha-bucket").exists()


def test_every_paginator_returns_each_key_once_over_day_partitions(
    s3: object, endpoint: Live
) -> None:
    keys = _day_keys(41, 30)  # 1,230 keys, page boundaries fall inside day= folders
    _write_directly(endpoint.root, keys)
    expected = sorted(keys)
    for operation in ("list_objects_v2", "list_objects"):
        for page_size in (1000, 97):
            paginator = s3.get_paginator(operation)  # type: ignore[attr-defined]
            seen = [
                obj["Key"]
                for page in paginator.paginate(
                    Bucket=BUCKET, PaginationConfig={"PageSize": page_size}
                )
                for obj in page.get("Contents", [])
            ]
            assert seen == expected, (operation, page_size)
    # Delimited, with url encoding: one common prefix per day, each once.
    paginator = s3.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    prefixes = [
        unquote(p["Prefix"])  # asked for url encoding: botocore leaves decoding to the caller
        for page in paginator.paginate(
            Bucket=BUCKET,
            Prefix="use-cases/fish-demo/observations/",
            Delimiter="/",
            EncodingType="url",
            PaginationConfig={"PageSize": 7},
        )
        for p in page.get("CommonPrefixes", [])
    ]
    assert prefixes == sorted({k.rsplit("/", 1)[0] + "/" for k in keys})
    # StartAfter in the middle of a day.
    after = expected[500]
    rest = [
        o["Key"]
        for page in paginator.paginate(Bucket=BUCKET, StartAfter=after)
        for o in page.get("Contents", [])
    ]
    assert rest == expected[501:]


def test_listing_orders_keys_as_s3_does_not_as_folders_do(s3: object) -> None:
    for key in ("a/b", "a-b", "a/c", "a.b", "a", "ab/x"):
        s3.put_object(Bucket=BUCKET, Key=key if key != "a" else "z", Body=b"x")  # type: ignore[attr-defined]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]  # type: ignore[attr-defined]
    assert keys == sorted(keys) == ["a-b", "a.b", "a/b", "a/c", "ab/x", "z"]
    grouped = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")  # type: ignore[attr-defined]
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/", "ab/"]
    assert [o["Key"] for o in grouped["Contents"]] == ["a-b", "a.b", "z"]
    # A delimiter other than '/'.
    dashed = s3.list_objects_v2(Bucket=BUCKET, Delimiter="-")  # type: ignore[attr-defined]
    assert [p["Prefix"] for p in dashed["CommonPrefixes"]] == ["a-"]


def test_a_file_copied_into_the_lake_is_an_object_with_its_md5(
    s3: object, endpoint: Live, tmp_path: Path
) -> None:
    source = tmp_path / "fish.json"
    source.write_bytes(b'{"fish_id": "F1"}\n' * 100)
    target = endpoint.root / BUCKET / "use-cases" / "fish.json"
    target.parent.mkdir(parents=True)
    shutil.copy2(source, target)
    head = s3.head_object(Bucket=BUCKET, Key="use-cases/fish.json")  # type: ignore[attr-defined]
    assert head["ContentLength"] == source.stat().st_size
    assert head["ETag"] == f'"{hashlib.md5(source.read_bytes()).hexdigest()}"'
    assert head["LastModified"] == datetime.fromtimestamp(int(target.stat().st_mtime), UTC)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="use-cases/")["Contents"]  # type: ignore[attr-defined]
    assert [(o["Key"], o["ETag"], o["Size"]) for o in listed] == [
        ("use-cases/fish.json", head["ETag"], head["ContentLength"])
    ]
    # Rewritten in place: the new content's ETag, not a stale cached one.
    target.write_bytes(b"changed")
    assert (
        s3.head_object(Bucket=BUCKET, Key="use-cases/fish.json")["ETag"]
        == f'"{hashlib.md5(b"changed").hexdigest()}"'
    )  # type: ignore[attr-defined]


def test_put_writes_the_bytes_the_crawler_reads(s3: object, endpoint: Live) -> None:
    body = b'{"image_id": "I1", "length_mm": 3.25}\n'
    put = s3.put_object(
        Bucket=BUCKET,
        Key="use-cases/fish-demo/observations/day=2025-04-02/o.json",
        Body=body,
        ContentType="application/json",
        Metadata={"Source": "test"},
    )  # type: ignore[attr-defined]
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert (
        endpoint.root / BUCKET / "use-cases/fish-demo/observations/day=2025-04-02/o.json"
    ).read_bytes() == body
    got = s3.get_object(Bucket=BUCKET, Key="use-cases/fish-demo/observations/day=2025-04-02/o.json")  # type: ignore[attr-defined]
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/json"
    assert got["Metadata"] == {"source": "test"}
    # Nothing of zfish's bookkeeping is left beside the object.
    assert sorted(
        p.name
        for p in (
            endpoint.root / BUCKET / "use-cases/fish-demo/observations/day=2025-04-02"
        ).iterdir()
    ) == ["o.json"]


def test_ranges_and_conditional_reads(s3: object) -> None:
    body = bytes(range(256)) * 4
    etag = s3.put_object(Bucket=BUCKET, Key="r.bin", Body=body)["ETag"]  # type: ignore[attr-defined]
    part = s3.get_object(Bucket=BUCKET, Key="r.bin", Range="bytes=10-19")  # type: ignore[attr-defined]
    assert part["Body"].read() == body[10:20]
    assert part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert s3.get_object(Bucket=BUCKET, Key="r.bin", Range="bytes=-5")["Body"].read() == body[-5:]  # type: ignore[attr-defined]
    assert (
        s3.get_object(Bucket=BUCKET, Key="r.bin", Range="bytes=1000-")["Body"].read() == body[1000:]
    )  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as beyond:
        s3.get_object(Bucket=BUCKET, Key="r.bin", Range="bytes=5000-6000")  # type: ignore[attr-defined]
    assert _code(beyond) == "InvalidRange"
    assert _status(beyond) == 416
    assert s3.get_object(Bucket=BUCKET, Key="r.bin", IfMatch=etag)["Body"].read() == body  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as precondition:
        s3.get_object(Bucket=BUCKET, Key="r.bin", IfMatch='"0000"')  # type: ignore[attr-defined]
    assert _status(precondition) == 412
    with pytest.raises(ClientError) as not_modified:
        s3.get_object(Bucket=BUCKET, Key="r.bin", IfNoneMatch=etag)  # type: ignore[attr-defined]
    assert _status(not_modified) == 304
    future = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(ClientError) as unchanged:
        s3.get_object(Bucket=BUCKET, Key="r.bin", IfModifiedSince=future)  # type: ignore[attr-defined]
    assert _status(unchanged) == 304
    with pytest.raises(ClientError) as changed:
        s3.get_object(
            Bucket=BUCKET, Key="r.bin", IfUnmodifiedSince=datetime(2000, 1, 1, tzinfo=UTC)
        )  # type: ignore[attr-defined]
    assert _status(changed) == 412


def test_missing_things_have_s3s_error_codes(s3: object) -> None:
    with pytest.raises(ClientError) as no_key:
        s3.get_object(Bucket=BUCKET, Key="nope.json")  # type: ignore[attr-defined]
    assert _code(no_key) == "NoSuchKey"
    assert _status(no_key) == 404
    with pytest.raises(ClientError) as no_bucket:
        s3.get_object(Bucket="missing-bucket", Key="x")  # type: ignore[attr-defined]
    assert _code(no_bucket) == "NoSuchBucket"
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket=BUCKET, Key="nope.json")  # type: ignore[attr-defined]
    assert _status(head) == 404
    with pytest.raises(ClientError) as upload:
        s3.upload_part(Bucket=BUCKET, Key="k", UploadId="deadbeef", PartNumber=1, Body=b"x")  # type: ignore[attr-defined]
    assert _code(upload) == "NoSuchUpload"


@pytest.mark.parametrize("key", ["../escape.txt", "a/../../escape.txt", "a//b", "./x"])
def test_keys_that_would_leave_the_lake_are_refused(s3: object, endpoint: Live, key: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")  # type: ignore[attr-defined]
    assert _code(excinfo) == "InvalidArgument"
    assert not (endpoint.root / "escape.txt").exists()
    assert not (endpoint.root.parent / "escape.txt").exists()


def test_the_catalog_and_temporary_files_are_out_of_reach(s3: object, endpoint: Live) -> None:
    catalog = endpoint.root / BUCKET / "use-cases/fish-demo/_catalog"
    catalog.mkdir(parents=True)
    (catalog / "catalog.duckdb").write_bytes(b"db")
    (endpoint.root / BUCKET / "use-cases/fish-demo/.x.json.123.zfish-tmp").write_bytes(b"half")
    (endpoint.root / BUCKET / "use-cases/fish-demo/ok.json").write_bytes(b"{}")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]  # type: ignore[attr-defined]
    assert keys == ["use-cases/fish-demo/ok.json"]
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=BUCKET, Key="use-cases/fish-demo/_catalog/catalog.duckdb")  # type: ignore[attr-defined]
    assert _code(excinfo) == "AccessDenied"
    with pytest.raises(ClientError):
        s3.put_object(
            Bucket=BUCKET, Key="use-cases/fish-demo/_catalog/catalog.duckdb", Body=b"evil"
        )  # type: ignore[attr-defined]
    assert (catalog / "catalog.duckdb").read_bytes() == b"db"
    assert ".zfish-s3" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]  # type: ignore[attr-defined]


def test_folder_markers_are_not_objects_of_4096_bytes(s3: object, endpoint: Live) -> None:
    s3.put_object(Bucket=BUCKET, Key="out/", Body=b"")  # type: ignore[attr-defined]
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="out")["Contents"]  # type: ignore[attr-defined]
    assert [(o["Key"], o["Size"]) for o in listed] == [("out/", 0)]
    assert (endpoint.root / BUCKET / "out").is_dir()
    s3.put_object(Bucket=BUCKET, Key="out/part-0.parquet", Body=b"PAR1")  # type: ignore[attr-defined]
    # A folder made by zfish (no marker) is never listed as an object.
    (endpoint.root / BUCKET / "plain" / "sub").mkdir(parents=True)
    (endpoint.root / BUCKET / "plain" / "sub" / "f").write_bytes(b"1")
    keys = [(o["Key"], o["Size"]) for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]  # type: ignore[attr-defined]
    assert keys == [("out/", 0), ("out/part-0.parquet", 4), ("plain/sub/f", 1)]
    # Deleting a non-empty marker is quick and keeps the objects under it.
    started = time.monotonic()
    s3.delete_object(Bucket=BUCKET, Key="out/")  # type: ignore[attr-defined]
    assert time.monotonic() - started < 2
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="out")["Contents"]] == [
        "out/part-0.parquet"
    ]  # type: ignore[attr-defined]
    # The last object gone, its prefix is gone too.
    s3.delete_object(Bucket=BUCKET, Key="out/part-0.parquet")  # type: ignore[attr-defined]
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="out")  # type: ignore[attr-defined]
    assert not (endpoint.root / BUCKET / "out").exists()


def test_folder_markers_keep_their_place_in_key_order(s3: object) -> None:
    s3.put_object(Bucket=BUCKET, Key="a/file.json", Body=b"1")  # type: ignore[attr-defined]
    s3.put_object(Bucket=BUCKET, Key="b/", Body=b"")  # type: ignore[attr-defined]
    s3.put_object(Bucket=BUCKET, Key="c/file.json", Body=b"2")  # type: ignore[attr-defined]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]  # type: ignore[attr-defined]
    assert keys == ["a/file.json", "b/", "c/file.json"]


def test_content_md5_and_checksum_mismatches_write_nothing(s3: object, endpoint: Live) -> None:
    body = b"the real body"
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as md5:
        s3.put_object(Bucket=BUCKET, Key="bad.bin", Body=body, ContentMD5=wrong_md5)  # type: ignore[attr-defined]
    assert _code(md5) == "BadDigest"
    wrong_crc = base64.b64encode((zlib.crc32(b"other")).to_bytes(4, "big")).decode()
    with pytest.raises(ClientError) as crc:
        s3.put_object(Bucket=BUCKET, Key="bad.bin", Body=body, ChecksumCRC32=wrong_crc)  # type: ignore[attr-defined]
    assert _code(crc) == "BadDigest"
    assert not (endpoint.root / BUCKET / "bad.bin").exists()
    assert list((endpoint.root / ".zfish-s3" / "tmp").iterdir()) == []


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_modern_sdk_checksums_are_verified_and_returned(
    s3: object, endpoint: Live, algorithm: str
) -> None:
    body = os.urandom(70_000)
    put = s3.put_object(
        Bucket=BUCKET, Key=f"c-{algorithm}.bin", Body=body, ChecksumAlgorithm=algorithm
    )  # type: ignore[attr-defined]
    assert f"Checksum{algorithm}" in put
    got = s3.get_object(Bucket=BUCKET, Key=f"c-{algorithm}.bin", ChecksumMode="ENABLED")  # type: ignore[attr-defined]
    assert got[f"Checksum{algorithm}"] == put[f"Checksum{algorithm}"]
    assert got["Body"].read() == body  # botocore validates the checksum while reading


def test_aws_chunked_signed_streaming_bodies(endpoint: Live) -> None:
    """SigV4 streaming payloads (what the Java SDK and s3a send), with chunk signatures checked."""
    import hmac

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    s3 = endpoint.client()
    s3.create_bucket(Bucket=BUCKET)
    payload = os.urandom(150_000)
    chunk_size = 64 * 1024
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{stamp[:8]}/us-east-1/s3/aws4_request"
    url = f"{endpoint.url}/{BUCKET}/streamed.bin"
    chunks = [payload[i : i + chunk_size] for i in range(0, len(payload), chunk_size)] + [b""]
    encoded_length = sum(
        len(f"{len(c):x};chunk-signature={'0' * 64}\r\n") + len(c) + 2 for c in chunks
    )

    def build(tamper: bool) -> urllib.request.Request:
        request = AWSRequest(
            method="PUT",
            url=url,
            headers={
                "X-Amz-Date": stamp,
                "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                "Content-Encoding": "aws-chunked",
                "X-Amz-Decoded-Content-Length": str(len(payload)),
                "Content-Length": str(encoded_length),
            },
        )
        signer = S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1")
        request.context["timestamp"] = stamp
        canonical = signer.canonical_request(request)
        seed = signer.signature(signer.string_to_sign(request, canonical), request)
        headers = dict(request.headers)
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=test/{scope}, SignedHeaders={signer.signed_headers(signer.headers_to_sign(request))}, Signature={seed}"
        )
        key = b"AWS4test"
        for part in (stamp[:8], "us-east-1", "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        previous, body = seed, b""
        for index, chunk in enumerate(chunks):
            text = "\n".join(
                [
                    "AWS4-HMAC-SHA256-PAYLOAD",
                    stamp,
                    scope,
                    previous,
                    hashlib.sha256(b"").hexdigest(),
                    hashlib.sha256(chunk).hexdigest(),
                ]
            )
            signature = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
            previous = signature
            sent = chunk
            if tamper and index == 1:
                sent = bytes([chunk[0] ^ 1]) + chunk[1:]
            body += f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + sent + b"\r\n"
        return urllib.request.Request(url, data=body, method="PUT", headers=headers)

    with pytest.raises(urllib.error.HTTPError) as tampered:
        urllib.request.urlopen(build(tamper=True), timeout=30)
    detail = tampered.value.read()
    assert tampered.value.code == 403, detail
    assert b"SignatureDoesNotMatch" in detail
    assert not (endpoint.root / BUCKET / "streamed.bin").exists()
    with urllib.request.urlopen(build(tamper=False), timeout=30) as response:
        assert response.status == 200
    assert (endpoint.root / BUCKET / "streamed.bin").read_bytes() == payload
    assert (
        s3.head_object(Bucket=BUCKET, Key="streamed.bin")["ETag"]
        == f'"{hashlib.md5(payload).hexdigest()}"'
    )


def test_put_if_none_match_refuses_to_overwrite(s3: object, endpoint: Live) -> None:
    s3.put_object(Bucket=BUCKET, Key="once.json", Body=b"first", IfNoneMatch="*")  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as exists:
        s3.put_object(Bucket=BUCKET, Key="once.json", Body=b"second", IfNoneMatch="*")  # type: ignore[attr-defined]
    assert _status(exists) == 412
    assert (endpoint.root / BUCKET / "once.json").read_bytes() == b"first"


def test_copy_delete_and_delete_objects(s3: object, endpoint: Live) -> None:
    s3.put_object(Bucket=BUCKET, Key="src/a.json", Body=b"A", ContentType="application/json")  # type: ignore[attr-defined]
    copied = s3.copy_object(
        Bucket=BUCKET, Key="dst/a.json", CopySource={"Bucket": BUCKET, "Key": "src/a.json"}
    )  # type: ignore[attr-defined]
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"A").hexdigest()}"'
    assert s3.get_object(Bucket=BUCKET, Key="dst/a.json")["ContentType"] == "application/json"  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as itself:
        s3.copy_object(
            Bucket=BUCKET, Key="src/a.json", CopySource={"Bucket": BUCKET, "Key": "src/a.json"}
        )  # type: ignore[attr-defined]
    assert _code(itself) == "InvalidRequest"
    for i in range(5):
        s3.put_object(Bucket=BUCKET, Key=f"many/{i}.json", Body=b"x")  # type: ignore[attr-defined]
    result = s3.delete_objects(
        Bucket=BUCKET,
        Delete={
            "Objects": [{"Key": f"many/{i}.json"} for i in range(5)] + [{"Key": "never-there"}]
        },
    )  # type: ignore[attr-defined]
    assert sorted(d["Key"] for d in result["Deleted"]) == sorted(
        [f"many/{i}.json" for i in range(5)] + ["never-there"]
    )
    assert not (endpoint.root / BUCKET / "many").exists()
    s3.delete_object(Bucket=BUCKET, Key="dst/a.json")  # type: ignore[attr-defined]
    s3.delete_object(Bucket=BUCKET, Key="dst/a.json")  # absent: still 204, as in S3  # type: ignore[attr-defined]
    assert not (endpoint.root / BUCKET / "dst").exists()


def test_multipart_upload_lifecycle(s3: object, endpoint: Live) -> None:
    part_size = 5 * 1024 * 1024
    parts_data = [os.urandom(part_size), os.urandom(part_size), os.urandom(1234)]
    upload = s3.create_multipart_upload(
        Bucket=BUCKET, Key="big/data.bin", ContentType="application/x-test"
    )  # type: ignore[attr-defined]
    upload_id = upload["UploadId"]
    etags = []
    for number, data in enumerate(parts_data, start=1):
        etags.append(
            s3.upload_part(
                Bucket=BUCKET, Key="big/data.bin", UploadId=upload_id, PartNumber=number, Body=data
            )["ETag"]
        )  # type: ignore[attr-defined]
    # In progress: listed as an upload, invisible as an object and in the lake.
    uploads = s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]  # type: ignore[attr-defined]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big/data.bin", upload_id)]
    assert [
        p["PartNumber"]
        for p in s3.list_parts(Bucket=BUCKET, Key="big/data.bin", UploadId=upload_id)["Parts"]
    ] == [1, 2, 3]  # type: ignore[attr-defined]
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)  # type: ignore[attr-defined]
    assert not (endpoint.root / BUCKET / "big").exists()
    with pytest.raises(ClientError) as wrong:
        s3.complete_multipart_upload(
            Bucket=BUCKET,
            Key="big/data.bin",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00"'}]},
        )  # type: ignore[attr-defined]
    assert _code(wrong) == "InvalidPart"
    done = s3.complete_multipart_upload(  # type: ignore[attr-defined]
        Bucket=BUCKET,
        Key="big/data.bin",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]
        },
    )
    whole = b"".join(parts_data)
    expected_etag = (
        hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts_data)).hexdigest() + "-3"
    )
    assert done["ETag"] == f'"{expected_etag}"'
    assert (endpoint.root / BUCKET / "big/data.bin").read_bytes() == whole
    head = s3.head_object(Bucket=BUCKET, Key="big/data.bin")  # type: ignore[attr-defined]
    assert head["ETag"] == f'"{expected_etag}"'
    assert head["ContentType"] == "application/x-test"
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []  # type: ignore[attr-defined]
    # Abort leaves nothing.
    other = s3.create_multipart_upload(Bucket=BUCKET, Key="big/aborted.bin")["UploadId"]  # type: ignore[attr-defined]
    s3.upload_part(Bucket=BUCKET, Key="big/aborted.bin", UploadId=other, PartNumber=1, Body=b"x")  # type: ignore[attr-defined]
    s3.abort_multipart_upload(Bucket=BUCKET, Key="big/aborted.bin", UploadId=other)  # type: ignore[attr-defined]
    assert not (endpoint.root / BUCKET / "big/aborted.bin").exists()
    assert list((endpoint.root / ".zfish-s3" / "uploads").iterdir()) == []


def test_multipart_etags_survive_a_restart(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    first = start_in_thread(lake)
    try:
        s3 = Live(first.url, first.context.layout, tmp_path).client()
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_fileobj(
            io.BytesIO(os.urandom(9 * 1024 * 1024)),
            BUCKET,
            "mp.bin",
            Config=TransferConfig(
                multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
            ),
        )
        etag = s3.head_object(Bucket=BUCKET, Key="mp.bin")["ETag"]
    finally:
        first.stop()
    assert etag.endswith('-2"')
    second = start_in_thread(lake)
    try:
        s3 = Live(second.url, second.context.layout, tmp_path).client()
        assert s3.head_object(Bucket=BUCKET, Key="mp.bin")["ETag"] == etag
    finally:
        second.stop()


def test_presigned_get_and_put_urls(s3: object) -> None:
    put_url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": BUCKET, "Key": "pre/signed.txt", "ContentType": "text/plain"},
        ExpiresIn=60,
    )  # type: ignore[attr-defined]
    # The Content-Type is part of what was signed, so the uploader sends the same one.
    request = urllib.request.Request(
        put_url, data=b"through a URL", method="PUT", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "pre/signed.txt"}, ExpiresIn=60
    )  # type: ignore[attr-defined]
    with urllib.request.urlopen(get_url, timeout=10) as response:
        assert response.read() == b"through a URL"
    # A tampered URL and an expired one are refused.
    with pytest.raises(urllib.error.HTTPError) as tampered:
        urllib.request.urlopen(get_url.replace("pre/signed.txt", "pre/other.txt"), timeout=10)
    assert tampered.value.code == 403
    expired = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "pre/signed.txt"}, ExpiresIn=1
    )  # type: ignore[attr-defined]
    time.sleep(2.5)
    with pytest.raises(urllib.error.HTTPError) as late:
        urllib.request.urlopen(expired, timeout=10)
    assert late.value.code == 403
    assert b"expired" in late.value.read()


def test_presigned_sigv2_urls(endpoint: Live) -> None:
    s3 = endpoint.client(config=Config(signature_version="s3"))
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="v2.txt", Body=b"old style")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "v2.txt"}, ExpiresIn=60
    )
    assert "AWSAccessKeyId=" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"old style"


def test_bodies_over_the_limit_are_refused_before_writing(tmp_path: Path) -> None:
    running = start_in_thread(tmp_path / "lake", max_body_bytes=1000)
    try:
        s3 = Live(running.url, running.context.layout, tmp_path).client()
        s3.create_bucket(Bucket=BUCKET)
        with pytest.raises(ClientError) as excinfo:
            s3.put_object(Bucket=BUCKET, Key="huge.bin", Body=b"x" * 5000)
        assert _code(excinfo) == "EntityTooLarge"
        assert not (tmp_path / "lake" / BUCKET / "huge.bin").exists()
    finally:
        running.stop()
