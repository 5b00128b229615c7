"""Where installation files live: a folder in the data dir by default, or an S3-compatible object store.

Both backends stream: a file of several GB is stored and served in chunks and never held in memory.
Objects are addressed by a key the desk chooses (`files/<file id>`); what a file *is* (its SKU,
version, language, name, size, SHA-256) lives in the database, not in the store.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Protocol

from partnerdesk.config import Settings

# Big enough that a 2 GiB file is a few thousand trips through the server, small enough to stay flat in memory.
CHUNK_BYTES = 1024 * 1024

Progress = Callable[[int], None]


@dataclass(frozen=True)
class StoredObject:
    size: int
    sha256: str


class FileStorage(Protocol):
    """What the software domain needs of a file store."""

    def save(self, key: str, chunks: Iterable[bytes], *, progress: Progress | None = None) -> StoredObject:
        """Stores the chunks under `key` (replacing nothing: keys are new), computing size and SHA-256 as it
        goes. The object appears whole or not at all."""
        ...

    def read(self, key: str, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The bytes from `start` up to `stop` excluded (the end when None), in chunks."""
        ...

    def delete(self, key: str) -> None:
        """Removes the object; a missing one is not an error."""
        ...

    def exists(self, key: str) -> bool:
        ...


class _Digest:
    """Size and SHA-256 of bytes as they pass."""

    def __init__(self, progress: Progress | None) -> None:
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.progress = progress

    def feed(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        self.sha256.update(chunk)
        if self.progress is not None:
            self.progress(len(chunk))
        return chunk

    def result(self) -> StoredObject:
        return StoredObject(size=self.size, sha256=self.sha256.hexdigest())


def metered(chunks: Iterable[bytes], digest: _Digest) -> Iterator[bytes]:
    for chunk in chunks:
        if chunk:
            yield digest.feed(chunk)


def new_digest(progress: Progress | None = None) -> _Digest:
    return _Digest(progress)


class LocalStorage:
    """Files in a folder. A file is written beside its final name and renamed into place, so a reader
    never sees half of one and a crash leaves only a temporary file behind."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        # Checked by its parts, not with `resolve()`: keys are the desk's own (`files/<id>`), and two
        # realpath walks of the folder on every download were a fifth of a link redemption's time.
        relative = PurePosixPath(key)
        if not key or relative.is_absolute() or ".." in relative.parts or "\\" in key or "\x00" in key:
            raise ValueError(f"storage key {key!r} leaves the storage folder")
        return self.root / relative

    def save(self, key: str, chunks: Iterable[bytes], *, progress: Progress | None = None) -> StoredObject:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
        digest = new_digest(progress)
        try:
            with open(partial, "wb") as handle:
                for chunk in metered(chunks, digest):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return digest.result()

    def read(self, key: str, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        with open(self._path(key), "rb") as handle:
            handle.seek(start)
            left = None if stop is None else stop - start
            while left is None or left > 0:
                chunk = handle.read(CHUNK_BYTES if left is None else min(CHUNK_BYTES, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def read_file_chunks(path: Path) -> Iterator[bytes]:
    """A local file's bytes in chunks (what the CLI stores from)."""
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def open_storage(settings: Settings) -> FileStorage:
    """The store the settings name; one per configuration per process."""
    # The settings' own values are the cache's key; the folder is resolved once, inside (every download
    # opens the store: resolving the folder's path each time was 5% of a link redemption's time).
    return _open_storage(settings.storage_backend, settings.files_dir, settings.data_dir, settings.s3_endpoint_url,
                         settings.s3_bucket, settings.s3_region, settings.s3_access_key_id,
                         settings.s3_secret_access_key, settings.s3_prefix)


@lru_cache(maxsize=8)
def _open_storage(backend: str, files_dir: Path | None, data_dir: Path, endpoint_url: str | None, bucket: str | None,
                  region: str | None, access_key_id: str | None, secret_access_key: str | None,
                  prefix: str) -> FileStorage:
    if backend == "s3":
        from partnerdesk.software.s3 import S3Storage

        return S3Storage(endpoint_url=endpoint_url, bucket=bucket or "", region=region,
                         access_key_id=access_key_id, secret_access_key=secret_access_key, prefix=prefix)
    return LocalStorage(files_dir or data_dir / "files")
