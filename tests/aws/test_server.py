"""``zfish serve`` as users start and stop it, and who it lets in (real aws CLI and boto3)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.conftest import BIN, Live, ServeProcess, start_serve


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_banner_names_the_url_and_the_environment_to_export(serve_process: ServeProcess) -> None:
    banner = serve_process.banner
    assert serve_process.url.startswith("http://127.0.0.1:")
    for part in (
        f"AWS_ENDPOINT_URL={serve_process.url}",
        "AWS_ACCESS_KEY_ID=test",
        "AWS_SECRET_ACCESS_KEY=test",
        "AWS_DEFAULT_REGION=us-east-1",
    ):
        assert part in banner


def test_sigterm_stops_it_cleanly(tmp_path: Path) -> None:
    served = start_serve(tmp_path / "lake")
    code, out = served.stop(signal.SIGTERM)
    assert code == 0
    assert "zfish serve: stopped" in out
    # The port is free again.
    port = int(served.url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_ready_within_two_seconds(tmp_path: Path) -> None:
    started = time.monotonic()
    served = start_serve(tmp_path / "lake")
    try:
        with urllib.request.urlopen(f"{served.url}/_zfish/health", timeout=5) as response:
            health = json.load(response)
        ready = time.monotonic() - started
    finally:
        served.stop()
    assert health["services"]["s3"] == "running"
    # A property of the product (issue 14), not a benchmark: generous for a loaded machine.
    assert ready < 6, f"ready after {ready:.1f} s"


def test_a_port_in_use_is_exit_5_with_the_fix(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(BIN / "zfish"), "--lake", str(tmp_path / "lake"), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 5
    assert f"port {port}" in result.stderr
    assert "--port" in result.stderr


def test_a_non_loopback_host_warns(tmp_path: Path) -> None:
    served = start_serve(tmp_path / "lake", "--host", "0.0.0.0")
    served.stop()
    assert "warning:" in served.before
    assert "not loopback" in served.before


def test_aws_cli_sts_get_caller_identity(serve_process: ServeProcess, tmp_path: Path) -> None:
    identity = json.loads(serve_process.live.aws("sts", "get-caller-identity").stdout)
    assert identity["Account"] == "000000000000"


def test_localstack_health_path_answers(endpoint: Live) -> None:
    with urllib.request.urlopen(f"{endpoint.url}/_localstack/health", timeout=5) as response:
        assert json.load(response)["services"]["s3"] == "running"


def test_a_wrong_secret_is_signature_does_not_match(endpoint: Live) -> None:
    with pytest.raises(ClientError) as excinfo:
        endpoint.client(aws_secret_access_key="wrong").list_buckets()
    assert _code(excinfo) == "SignatureDoesNotMatch"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unknown_key_is_invalid_access_key_id(endpoint: Live) -> None:
    with pytest.raises(ClientError) as excinfo:
        endpoint.client(aws_access_key_id="AKIDNOBODY").list_buckets()
    assert _code(excinfo) == "InvalidAccessKeyId"


def test_anonymous_requests_are_access_denied(endpoint: Live) -> None:
    from botocore import UNSIGNED

    with pytest.raises(ClientError) as excinfo:
        endpoint.client(config=Config(signature_version=UNSIGNED)).list_buckets()
    assert _code(excinfo) == "AccessDenied"


def test_sigv2_signed_requests_are_checked(endpoint: Live) -> None:
    good = endpoint.client(config=Config(signature_version="s3"))
    good.create_bucket(Bucket="sigv2-bucket")
    good.put_object(Bucket="sigv2-bucket", Key="a b+c.txt", Body=b"v2")
    assert good.get_object(Bucket="sigv2-bucket", Key="a b+c.txt")["Body"].read() == b"v2"
    bad = endpoint.client(config=Config(signature_version="s3"), aws_secret_access_key="wrong")
    with pytest.raises(ClientError) as excinfo:
        bad.list_objects(Bucket="sigv2-bucket")
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_configured_credentials_replace_the_default(tmp_path: Path) -> None:
    served = start_serve(tmp_path / "lake", "--access-key", "AKIAZFISH", "--secret-key", "s3cr3t")
    try:
        assert "AWS_ACCESS_KEY_ID=AKIAZFISH" in served.banner
        live = served.live
        assert (
            live.client(
                aws_access_key_id="AKIAZFISH", aws_secret_access_key="s3cr3t"
            ).list_buckets()["Buckets"]
            == []
        )
        with pytest.raises(ClientError) as excinfo:
            live.client().list_buckets()
        assert _code(excinfo) == "InvalidAccessKeyId"
    finally:
        served.stop()
