"""``zfish serve`` as S3: upload, listing, throughput and memory, against baselines in the same run.

* Upload: ``aws s3 cp --recursive`` of one day partition (300 small JSON files
  and 300 PNGs, the shape the seed's upload script sends) to zfish, to moto's
  own server (in-memory S3, the same protocol layer) and plain ``cp -r``.
* Listing: one ``ListObjectsV2`` page of 1,000 keys from a 50,000-key prefix
  under ``day=`` folders, pages from the start, the middle and the end, with
  warm caches (goal: at most 0.1 s a page; s3proxy measured 2.4 s here). The
  baseline is the floor: ``os.scandir`` plus ``stat`` of the same 1,000 files.
* Throughput: GET and PUT of a 50 MB object through boto3 (multipart above
  8 MB, as boto3 does), in MB/s, against ``shutil.copyfile`` of the same file.
* Memory: the server's peak RSS over the whole run.

``--quick``: 10,000 keys, a 20 MB object, 100 files per partition.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks import measure

KEYS, QUICK_KEYS = 50_000, 10_000
OBJECT_MB, QUICK_OBJECT_MB = 50, 20
FILES, QUICK_FILES = 300, 100
BUCKET = "bench-bucket"
LIST_GOAL_SECONDS = 0.1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server process whose peak RSS is sampled while it runs."""

    def __init__(self, argv: list[str], url: str) -> None:
        self.url = url
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.peak = 0
        self._done = threading.Event()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        proc = psutil.Process(self.process.pid)
        while not self._done.is_set():
            try:
                self.peak = max(self.peak, proc.memory_info().rss)
            except psutil.Error:
                return
            self._done.wait(0.05)

    def stop(self) -> float:
        self._done.set()
        self.process.terminate()
        self.process.wait(timeout=30)
        return self.peak / 2**20


def _env(url: str, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
    }


def _client(url: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        "s3",
        endpoint_url=url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )


def _partition(folder: Path, files: int) -> Path:
    day = folder / "day=2025-05-10"
    day.mkdir(parents=True)
    png = bytes(range(256)) * 1  # an 8x8 PNG is about this size
    for i in range(files):
        (day / f"fish_{i:04d}_day_3.json").write_text(
            f'{{"image_id":"img_{i:04d}","fish_id":"fish_{i:04d}","length_mm":{3 + i / 100},"day":3}}\n'
        )
        (day / f"fish_{i:04d}_day_3.png").write_bytes(png)
    return day


def _upload(url: str, source: Path, home: Path) -> float:
    aws = str(Path(sys.executable).parent / "aws")
    env = _env(url, home)
    subprocess.run([aws, "s3", "mb", f"s3://{BUCKET}"], env=env, check=False, capture_output=True)
    started = time.perf_counter()
    subprocess.run(
        [
            aws,
            "s3",
            "cp",
            str(source),
            f"s3://{BUCKET}/observations/day=2025-05-10/",
            "--recursive",
            "--only-show-errors",
        ],
        env=env,
        check=True,
    )
    return time.perf_counter() - started


def _keys_lake(lake: Path, keys: int) -> None:
    per_day = 1000
    for d in range(keys // per_day):
        folder = lake / BUCKET / "many" / f"day=2025-{4 + d // 28:02d}-{1 + d % 28:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_day):
            (folder / f"fish_{i:05d}.json").write_bytes(b"{}\n")


def _listing(url: str, lake: Path, keys: int) -> tuple[float, float, float]:
    s3 = _client(url)
    everything = sorted(
        p.relative_to(lake / BUCKET).as_posix() for p in (lake / BUCKET / "many").rglob("*.json")
    )
    # Warm the ETag cache once (the first listing of a directly written lake computes MD5s).
    paginator = s3.get_paginator("list_objects_v2")
    for _ in paginator.paginate(Bucket=BUCKET, Prefix="many/"):
        pass
    times = []
    for start in (None, everything[keys // 2], everything[-1001]):
        kwargs: dict[str, Any] = {"Bucket": BUCKET, "Prefix": "many/", "MaxKeys": 1000}
        if start:
            kwargs["StartAfter"] = start
        for _ in range(3):
            t = time.perf_counter()
            page = s3.list_objects_v2(**kwargs)
            times.append(time.perf_counter() - t)
            assert page["KeyCount"] == 1000
    # The same pages as raw HTTP (presigned GETs): the server's part, without botocore's parsing.
    import urllib.request

    raw = []
    for start in (None, everything[keys // 2], everything[-1001]):
        params: dict[str, Any] = {"Bucket": BUCKET, "Prefix": "many/", "MaxKeys": 1000}
        if start:
            params["StartAfter"] = start
        url = s3.generate_presigned_url("list_objects_v2", Params=params, ExpiresIn=300)
        for _ in range(3):
            t = time.perf_counter()
            with urllib.request.urlopen(url) as response:
                response.read()
            raw.append(time.perf_counter() - t)
    floor = []
    folder = lake / BUCKET / "many" / "day=2025-04-01"
    for _ in range(5):
        t = time.perf_counter()
        names = sorted(e.name for e in os.scandir(folder))
        for name in names[:1000]:
            os.stat(folder / name)
        floor.append(time.perf_counter() - t)
    return measure.median(times), measure.median(raw), measure.median(floor)


def _throughput(url: str, work: Path, megabytes: int) -> tuple[float, float, float]:
    s3 = _client(url)
    source = work / "object.bin"
    source.write_bytes(os.urandom(megabytes * 2**20))
    t = time.perf_counter()
    s3.upload_file(str(source), BUCKET, "big/object.bin")
    put = megabytes / (time.perf_counter() - t)
    target = work / "down.bin"
    t = time.perf_counter()
    s3.download_file(BUCKET, "big/object.bin", str(target))
    get = megabytes / (time.perf_counter() - t)
    assert target.stat().st_size == source.stat().st_size
    t = time.perf_counter()
    shutil.copyfile(source, work / "copy.bin")
    copy = megabytes / (time.perf_counter() - t)
    return put, get, copy


def main(*, quick: bool = False) -> None:
    keys = QUICK_KEYS if quick else KEYS
    megabytes = QUICK_OBJECT_MB if quick else OBJECT_MB
    files = QUICK_FILES if quick else FILES
    # The ordinary disk (where a user's lake is), not /dev/shm: small-file writes differ there.
    work = (
        Path(os.environ.get("ZFISH_BENCH_DIR") or measure.REPO / "build")
        / f"bench-s3-{os.getpid()}"
    )
    work.mkdir(parents=True)
    try:
        print(f"  {measure.load_note()}; work dir {work}")
        source = _partition(work / "data", files)
        lake = work / "lake"
        port = _free_port()
        zfish = Server(
            [
                str(Path(sys.executable).parent / "zfish"),
                "--lake",
                str(lake),
                "serve",
                "--port",
                str(port),
            ],
            f"http://127.0.0.1:{port}",
        )
        moto_port = _free_port()
        moto = Server(
            [str(Path(sys.executable).parent / "moto_server"), "-p", str(moto_port)],
            f"http://127.0.0.1:{moto_port}",
        )
        try:
            up_zfish = _upload(zfish.url, source, work)
            up_moto = _upload(moto.url, source, work)
            t = time.perf_counter()
            shutil.copytree(source, work / "plain-cp" / source.name)
            up_cp = time.perf_counter() - t
            print(f"  upload of one day partition ({2 * files} files) with aws s3 cp --recursive:")
            print(
                f"    zfish {up_zfish:.2f} s, moto server {up_moto:.2f} s, plain cp {up_cp:.3f} s"
            )
            print(
                f"    zfish / moto = {up_zfish / up_moto:.2f} (lower is better; both are bound by the CLI's own work)"
            )

            _keys_lake(lake, keys)
            # Files written a moment ago are hashed on every listing until their mtime settles
            # (see zfish.aws.s3store); a lake's files are older than that.
            time.sleep(2.5)
            page, raw, floor = _listing(zfish.url, lake, keys)
            print(
                f"  listing: one page of 1,000 keys from a {keys:,}-key prefix: {page * 1000:.0f} ms through boto3, "
                f"{raw * 1000:.0f} ms as the HTTP request alone (boto3's XML parsing is the rest)"
            )
            print(
                f"    goal <= {LIST_GOAL_SECONDS * 1000:.0f} ms: {'met' if page <= LIST_GOAL_SECONDS else 'NOT met'} through boto3, {'met' if raw <= LIST_GOAL_SECONDS else 'NOT met'} for the request; "
                f"floor (scandir + stat of 1,000 files) {floor * 1000:.1f} ms, ratio {page / floor:.1f}"
            )

            put, get, copy = _throughput(zfish.url, work, megabytes)
            print(
                f"  throughput on a {megabytes} MB object: PUT {put:.0f} MB/s, GET {get:.0f} MB/s, file copy {copy:.0f} MB/s"
            )
            print(f"    PUT / copy = {put / copy:.2f}, GET / copy = {get / copy:.2f}")
        finally:
            peak = zfish.stop()
            moto_peak = moto.stop()
        print(
            f"  memory: zfish serve peak RSS {peak:.0f} MiB over the run (moto server {moto_peak:.0f} MiB)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
