"""Installation files in an S3-compatible object store (AWS S3, MinIO, SeaweedFS, Ceph, R2, ...).

A file of several GB goes up as a multipart upload of fixed 8 MiB parts, filled in one buffer and sent
without copies, so an upload holds one part in memory whatever the file's size; its size and SHA-256 are
computed on the way. S3 shows an object
only once its upload is completed, so a failed save (a broken client connection, a refused part) aborts
the upload and leaves nothing behind, neither an object nor parts the bucket would keep billing for. A file
smaller than a part goes up in one request.

Reads are ranged GETs streamed in `CHUNK_BYTES` pieces, which is what resumable downloads need. A missing
object raises `FileNotFoundError`, as with the local folder, so callers need not know which store they have.

A misconfigured store (no such bucket, refused credentials) fails with `S3StorageError` and a sentence
naming the bucket and the endpoint, rather than with the SDK's bare error code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from partnerdesk.software.errors import FileUnavailable
from partnerdesk.software.storage import CHUNK_BYTES, Progress, StoredObject, metered, new_digest

log = logging.getLogger("partnerdesk.software")

# S3 refuses parts under 5 MiB (but the last) and allows 10,000 parts: 8 MiB parts hold files up to 78 GiB,
# above the operator API's 64 GiB limit. Every part but the last has exactly this size, as some stores
# (Cloudflare R2) require.
PART_BYTES = 8 * 1024 * 1024
MAX_PARTS = 10_000

# The error codes S3 answers with when it does not accept the credentials; "403" is a HEAD's bare status.
REFUSED_CREDENTIALS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken",
                       "ExpiredToken", "InvalidSecurity", "403"}


class S3StorageError(FileUnavailable):
    """The object store cannot be used as configured (no such bucket, refused credentials): a 503 for an
    API caller, with the sentence naming the bucket and endpoint."""


class S3Storage:
    """Installation files as objects `<prefix>/<key>` in one bucket. Safe to share between threads."""

    def __init__(self, *, endpoint_url: str | None, bucket: str, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 prefix: str = "") -> None:
        if not bucket:
            raise ValueError("The S3 storage backend needs a bucket: set PARTNERDESK_S3_BUCKET.")
        if bool(access_key_id) != bool(secret_access_key):
            raise ValueError("Set both PARTNERDESK_S3_ACCESS_KEY_ID and PARTNERDESK_S3_SECRET_ACCESS_KEY, or "
                             "neither to use the AWS credential chain (AWS_* variables, instance role).")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        config = Config(retries={"mode": "standard"})
        if endpoint_url:
            # Other stores than AWS: bucket names in the path (no wildcard DNS needed), and no checksum
            # headers the request does not require, which boto3 sends since 1.36 and several stores refuse.
            config = config.merge(Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                                         response_checksum_validation="when_required"))
        session = boto3.session.Session(aws_access_key_id=access_key_id or None,
                                        aws_secret_access_key=secret_access_key or None, region_name=region or None)
        self.client = session.client("s3", endpoint_url=endpoint_url or None, config=config)

    def object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    @property
    def location(self) -> str:
        return f"bucket {self.bucket!r} at {self.client.meta.endpoint_url}"

    def save(self, key: str, chunks: Iterable[bytes], *, progress: Progress | None = None) -> StoredObject:
        digest = new_digest(progress)
        upload = ObjectUpload(self.client, self.bucket, self.object_key(key))
        with self.explained():
            try:
                upload.send(metered(chunks, digest))
            except BaseException:
                upload.abort()
                raise
        return digest.result()

    def read(self, key: str, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        if stop is not None and stop <= start:
            return
        with self.explained(key):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key),
                                                  **range_of(start, stop))
            except ClientError as error:
                if error_code(error) == "InvalidRange":  # starts at or past the end: nothing to read
                    return
                raise
            body = response["Body"]
            try:
                yield from body.iter_chunks(chunk_size=CHUNK_BYTES)
            finally:
                body.close()

    def delete(self, key: str) -> None:
        with self.explained():
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def exists(self, key: str) -> bool:
        with self.explained():
            try:
                self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
            except ClientError as error:
                if error_code(error) not in {"404", "NoSuchKey"}:
                    raise
                # A HEAD's 404 has no body to tell a missing object from a missing bucket.
                self.client.head_bucket(Bucket=self.bucket)
                return False
        return True

    @contextmanager
    def explained(self, key: str | None = None) -> Iterator[None]:
        """Turns the SDK's errors about the store's configuration into sentences an operator can act on,
        and a missing object into `FileNotFoundError`, as the local backend raises."""
        try:
            yield
        except ClientError as error:
            code = error_code(error)
            # A bare 404 is a HEAD's answer: about the bucket when no object was asked for.
            if code == "NoSuchBucket" or (code == "404" and key is None):
                raise S3StorageError(f"The S3 {self.location} does not exist; create it or correct "
                                     "PARTNERDESK_S3_BUCKET / PARTNERDESK_S3_ENDPOINT_URL.") from error
            if code in {"NoSuchKey", "404"}:
                missing = f"No object {self.object_key(key or '')!r} in the S3 {self.location}."
                raise FileNotFoundError(missing) from error
            if code in REFUSED_CREDENTIALS:
                raise S3StorageError(f"The S3 {self.location} refused the credentials ({code}): check "
                                     "PARTNERDESK_S3_ACCESS_KEY_ID and PARTNERDESK_S3_SECRET_ACCESS_KEY, and that "
                                     "they may read, write, delete and list in the bucket.") from error
            raise
        except NoCredentialsError as error:
            raise S3StorageError(f"No credentials for the S3 {self.location}: set PARTNERDESK_S3_ACCESS_KEY_ID "
                                 "and PARTNERDESK_S3_SECRET_ACCESS_KEY (or AWS_* variables, an instance role)."
                                 ) from error


class PartBuffer:
    """One part's bytes, copied in as chunks arrive and handed to the SDK as they are (it takes a bytearray
    without copying it), then filled again: the only file bytes an upload holds besides the chunk in hand."""

    def __init__(self) -> None:
        self.data = bytearray(PART_BYTES)
        self.size = 0

    @property
    def full(self) -> bool:
        return self.size == PART_BYTES

    def fill(self, chunk: memoryview) -> memoryview:
        """Copies in what fits of `chunk` and returns the rest."""
        taken = min(len(chunk), PART_BYTES - self.size)
        self.data[self.size:self.size + taken] = chunk[:taken]
        self.size += taken
        return chunk[taken:]

    def last(self) -> bytearray:
        """The bytes of the last part, once no more will come."""
        del self.data[self.size:]
        return self.data


class ObjectUpload:
    """One object's upload: in one request when it fits in a part, else in parts of exactly `PART_BYTES`
    (but the last), which S3 shows as an object only when `complete` succeeds."""

    def __init__(self, client, bucket: str, key: str) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.buffer = PartBuffer()
        self.upload_id: str | None = None
        self.parts: list[dict] = []

    def send(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            rest = memoryview(chunk)
            while rest:
                # A full part with more bytes to come: a file of exactly one part still goes up in one request.
                if self.buffer.full:
                    self.send_part(self.buffer.data)
                    self.buffer.size = 0
                rest = self.buffer.fill(rest)
        if self.upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=self.buffer.last())
        else:
            self.send_part(self.buffer.last())
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                                  MultipartUpload={"Parts": self.parts})

    def send_part(self, data: bytearray) -> None:
        if self.upload_id is None:
            self.upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key)["UploadId"]
        number = len(self.parts) + 1
        if number > MAX_PARTS:
            raise ValueError(f"S3 takes at most {MAX_PARTS} parts of {PART_BYTES // 2**20} MiB: "
                             f"the file is larger than {MAX_PARTS * PART_BYTES // 2**30} GiB.")
        answer = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                         PartNumber=number, Body=data)
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def abort(self) -> None:
        """Drops the parts sent so far; the error that made the upload fail is the one worth raising."""
        if self.upload_id is None:
            return
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
        except ClientError as error:
            if error_code(error) != "NoSuchUpload":  # already gone: nothing left to remove
                self.log_leftover()
        except BotoCoreError:
            self.log_leftover()

    def log_leftover(self) -> None:
        log.warning("could not abort the multipart upload %s of %r in bucket %r; a lifecycle rule "
                    "(AbortIncompleteMultipartUpload) will have to remove its parts",
                    self.upload_id, self.key, self.bucket, exc_info=True)


def range_of(start: int, stop: int | None) -> dict[str, str]:
    """GetObject's Range argument for the bytes from `start` up to `stop` excluded (a non-empty range:
    S3 reads "bytes=5-4" as no range at all and answers with the whole object)."""
    if start == 0 and stop is None:
        return {}
    return {"Range": f"bytes={start}-{'' if stop is None else stop - 1}"}


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
