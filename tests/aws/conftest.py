"""Fixtures for the AWS endpoint: a live ``zfish serve`` over a temporary lake, and its real clients."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from zfish.aws.context import EndpointContext
from zfish.aws.server import RunningServer, create_server
from zfish.settings import LakeLayout

BIN = Path(sys.executable).parent
KEY = "test"
SECRET = "test"
REGION = "us-east-1"


@dataclass
class Live:
    """An endpoint's URL and lake, and the real clients pointed at it."""

    url: str
    layout: LakeLayout
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            AWS_ENDPOINT_URL=self.url,
            AWS_ACCESS_KEY_ID=KEY,
            AWS_SECRET_ACCESS_KEY=SECRET,
            AWS_DEFAULT_REGION=REGION,
            # Nothing from the user's own ~/.aws.
            AWS_CONFIG_FILE=str(self.home / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.home / "credentials"),
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        )
        env.pop("AWS_PROFILE", None)
        env.update(extra)
        return env

    def client(self, service: str = "s3", **kwargs: Any) -> Any:
        import boto3

        options: dict[str, Any] = {
            "endpoint_url": self.url,
            "aws_access_key_id": KEY,
            "aws_secret_access_key": SECRET,
            "region_name": REGION,
        }
        options.update(kwargs)
        return boto3.session.Session().client(service, **options)

    def aws(
        self, *args: str, check: bool = True, timeout: float = 600, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        """The real aws CLI (awscli from PyPI, in this venv)."""
        result = subprocess.run(
            [str(BIN / "aws"), *args],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"aws {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}"
            )
        return result

    @property
    def root(self) -> Path:
        return self.layout.root


def start_in_thread(lake: Path, **context: Any) -> RunningServer:
    ctx = EndpointContext(LakeLayout(root=lake), **context)
    return create_server(ctx, "127.0.0.1", 0).start_in_thread()


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[Live]:
    """A live endpoint (in this process) over an empty lake."""
    running = start_in_thread(tmp_path / "lake")
    try:
        yield Live(running.url, running.context.layout, tmp_path / "aws-home")
    finally:
        running.stop()


@dataclass
class ServeProcess:
    process: subprocess.Popen[str]
    url: str
    banner: str
    lake: Path
    home: Path
    before: str = ""  # what it printed before the banner

    @property
    def live(self) -> Live:
        return Live(self.url, LakeLayout(root=self.lake), self.home)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return self.process.returncode, out


def start_serve(
    lake: Path, *args: str, home: Path | None = None, env: dict[str, str] | None = None
) -> ServeProcess:
    """``zfish serve`` as a user runs it, on a free port; waits for its banner."""
    process = subprocess.Popen(
        [str(BIN / "zfish"), "--lake", str(lake), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("zfish serve:") and "AWS_ENDPOINT_URL=" in line:
            url = line.split("AWS_ENDPOINT_URL=", 1)[1].split()[0]
            return ServeProcess(
                process,
                url,
                line.strip(),
                lake,
                home or lake.parent / "aws-home",
                "".join(lines[:-1]),
            )
    process.kill()
    raise AssertionError("zfish serve printed no banner:\n" + "".join(lines))


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[ServeProcess]:
    served = start_serve(tmp_path / "lake")
    try:
        yield served
    finally:
        served.stop()


@contextmanager
def crawled_lake_server(study: Path, root: Path) -> Iterator[Live]:
    """A lake with the study up to 2025-05-10, crawled, behind a live endpoint in this process."""
    from datetime import date

    from zfish.catalog import crawler
    from zfish.lake.upload import upload

    layout = LakeLayout(root=root)
    upload(study, layout, date(2025, 5, 10), show_progress=False)
    crawler.crawl(layout)
    running = start_in_thread(root)
    try:
        yield Live(running.url, running.context.layout, root.parent / "aws-home")
    finally:
        running.stop()


def athena_query(
    live: Live, sql: str, database: str = "zebra_fish_demo", polls: int = 1200
) -> tuple[str, dict[str, Any]]:
    """Run one statement through Athena's API; its id and final QueryExecution."""
    athena = live.client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database}
    )["QueryExecutionId"]
    for _ in range(polls):  # every 50 ms
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] not in ("QUEUED", "RUNNING"):
            return query_id, dict(execution)
        time.sleep(0.05)
    raise AssertionError(f"query {sql!r} did not finish")
