"""An S3 endpoint on loopback for the object-storage tests: moto's server mode.

moto's in-process mock patches boto3, not s3fs's aiobotocore, so the tests talk HTTP to a real
(moto) S3 server on 127.0.0.1: `ThreadedMotoServer` on a free port, one per test session, and a
fresh bucket per test. The warehouse finds the endpoint and the (fake) credentials where it would
in production: `SALES_PIPELINE_S3_ENDPOINT_URL` and the standard AWS_* variables.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """http://127.0.0.1:<port> of a moto S3 server running for the whole session."""
    moto_server = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed (pip install -e '.[s3]')"
    )
    pytest.importorskip("s3fs", reason="s3fs is not installed (pip install -e '.[s3]')")
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; the environment points the warehouse (and boto3) at the moto server."""
    import boto3

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SALES_PIPELINE_S3_ENDPOINT_URL", s3_endpoint)
    bucket = f"wh-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    return bucket


def arrow_s3(endpoint: str):
    """pyarrow's own S3 client (not fsspec) at the moto server: what a BI reader would use."""
    import pyarrow.fs as pafs

    return pafs.S3FileSystem(
        access_key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        secret_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region=CREDENTIALS["AWS_DEFAULT_REGION"],
        endpoint_override=endpoint,
        scheme="http",
    )
