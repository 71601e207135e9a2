"""The endpoint under concurrent clients and crashes: nothing lost, nothing seen half-written."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.config import Config

from tests.aws.conftest import Live, ServeProcess, start_serve

BUCKET = "my-data-bucket"


def test_sixteen_clients_put_and_list_ten_thousand_objects(serve_process: ServeProcess) -> None:
    endpoint = serve_process.live  # its own process: the clients here do not share its GIL
    endpoint.client().create_bucket(Bucket=BUCKET)
    clients = [
        endpoint.client(config=Config(max_pool_connections=4, retries={"max_attempts": 2}))
        for _ in range(16)
    ]
    total = 10_000
    per_client = total // len(clients)
    torn: list[str] = []
    stop = threading.Event()

    def body(key: str) -> bytes:
        # Its own digest inside: a reader can tell a whole object from part of one.
        payload = (key * 20).encode()
        return hashlib.md5(payload).hexdigest().encode() + payload

    def writer(index: int) -> None:
        s3 = clients[index]
        for n in range(per_client):
            key = f"load/day=2025-04-{1 + n % 28:02d}/c{index:02d}_{n:04d}.json"
            s3.put_object(Bucket=BUCKET, Key=key, Body=body(key))

    def reader() -> None:
        s3 = endpoint.client()
        while not stop.is_set():
            page = s3.list_objects_v2(Bucket=BUCKET, Prefix="load/", MaxKeys=50)
            for obj in page.get("Contents", [])[:5]:
                data = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
                if hashlib.md5(data[32:]).hexdigest().encode() != data[:32]:
                    torn.append(obj["Key"])

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            list(pool.map(writer, range(len(clients))))
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert torn == []
    paginator = endpoint.client().get_paginator("list_objects_v2")
    keys = [
        o["Key"]
        for page in paginator.paginate(Bucket=BUCKET, Prefix="load/")
        for o in page.get("Contents", [])
    ]
    assert len(keys) == len(set(keys)) == per_client * len(clients)
    on_disk = sum(1 for p in (endpoint.root / BUCKET / "load").rglob("*") if p.is_file())
    assert on_disk == len(keys)
    assert list((endpoint.root / ".zfish-s3" / "tmp").iterdir()) == []


def test_sigkill_during_a_multipart_upload_leaves_the_lake_intact(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    served = start_serve(lake)
    live = served.live
    s3 = live.client()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="keep/existing.json", Body=b'{"kept": true}\n')
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="big/object.bin")["UploadId"]
    s3.upload_part(
        Bucket=BUCKET,
        Key="big/object.bin",
        UploadId=upload_id,
        PartNumber=1,
        Body=os.urandom(5 * 1024 * 1024),
    )

    # Kill it while a part is streaming in.
    import http.client

    host, port = served.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    presigned = s3.generate_presigned_url(
        "upload_part",
        Params={"Bucket": BUCKET, "Key": "big/object.bin", "UploadId": upload_id, "PartNumber": 2},
        ExpiresIn=60,
    )
    path = presigned.split(served.url, 1)[1]
    connection.putrequest("PUT", path)
    connection.putheader("Content-Length", str(20 * 1024 * 1024))
    connection.endheaders()
    connection.send(os.urandom(3 * 1024 * 1024))
    served.process.send_signal(signal.SIGKILL)
    served.process.wait(timeout=20)
    connection.close()

    restarted = start_serve(lake)
    try:
        s3 = restarted.live.client()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        assert keys == ["keep/existing.json"]
        assert (
            s3.get_object(Bucket=BUCKET, Key="keep/existing.json")["Body"].read()
            == b'{"kept": true}\n'
        )
        assert not (lake / BUCKET / "big").exists()
        # The received-but-unfinished body is gone; the upload itself is still there to finish or abort.
        assert list((lake / ".zfish-s3" / "tmp").iterdir()) == []
        assert not list((lake / ".zfish-s3" / "uploads").rglob("*.tmp"))
        parts = s3.list_parts(Bucket=BUCKET, Key="big/object.bin", UploadId=upload_id)["Parts"]
        assert [p["PartNumber"] for p in parts] == [1]
        s3.abort_multipart_upload(Bucket=BUCKET, Key="big/object.bin", UploadId=upload_id)
    finally:
        restarted.stop()


@pytest.mark.parametrize("cut_at", [0.1, 0.5, 0.9])
def test_a_put_cut_off_midway_is_never_visible(endpoint: Live, cut_at: float) -> None:
    import http.client

    s3 = endpoint.client()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="obj.bin", Body=b"old version")
    size = 2 * 1024 * 1024
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": "obj.bin"}, ExpiresIn=60
    )
    host, port = endpoint.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("PUT", url.split(endpoint.url, 1)[1])
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    connection.send(os.urandom(int(size * cut_at)))
    connection.close()
    # The server notices the cut body; the old object stays whole. (Its thread may wait
    # seconds for a core on a loaded machine: a deadline, not a count of polls.)
    deadline = time.monotonic() + 30
    while list((endpoint.root / ".zfish-s3" / "tmp").iterdir()) and time.monotonic() < deadline:
        threading.Event().wait(0.1)
    assert s3.get_object(Bucket=BUCKET, Key="obj.bin")["Body"].read() == b"old version"
    assert list((endpoint.root / ".zfish-s3" / "tmp").iterdir()) == []
