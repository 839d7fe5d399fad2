"""Uploads: the type sniffed from the bytes, stored by content hash behind a seam an object store can replace."""
from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import filetype

ALLOWED_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "video/mp4": "mp4"}


@dataclass(frozen=True)
class StoredBlob:
    key: str
    sha256: str
    content_type: str
    size: int


def sniff_content_type(head: bytes) -> str | None:
    """What the bytes are, whatever the client's header claims; None for anything we do not accept."""
    kind = filetype.guess(head)
    if kind is None:
        return None
    mime = kind.mime
    # ISO base media files of the MP4 family (isom, mp42, avc1...) all play as MP4.
    if kind.extension in ("mp4", "m4v"):
        mime = "video/mp4"
    return mime if mime in ALLOWED_TYPES else None


class LocalStorage:
    """Content-addressed files under a directory: the same photo sent twice is stored once."""

    def __init__(self, root: str | os.PathLike):
        self.root_setting = root
        self.root = Path(root)

    def put(self, data: bytes, content_type: str) -> StoredBlob:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{digest[:2]}/{digest}.{ALLOWED_TYPES[content_type]}"
        path = self.root / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename: a crash never leaves a half file under the final name.
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        return StoredBlob(key=key, sha256=digest, content_type=content_type, size=len(data))

    def put_export(self, data: bytes, extension: str) -> str:
        """A generated report file, under a random name (never shared between requesters)."""
        key = f"exports/{uuid.uuid4().hex}.{extension}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        return key

    def open(self, key: str):
        return open(self.root / key, "rb")

    def path(self, key: str) -> Path:
        return self.root / key
