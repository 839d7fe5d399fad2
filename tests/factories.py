"""Small builders for test payloads and files."""
from __future__ import annotations

import io
import struct
import zlib

ROAD_REPORT = {
    "description": "Đường Lý Thái Tổ đoạn trước số 12 có ổ gà rất sâu, xe máy đi qua rất nguy hiểm.",
    "title": "Ổ gà trên đường Lý Thái Tổ",
    "category": "traffic",
    "address": "12 Lý Thái Tổ, phường Suối Hoa, TP Bắc Ninh",
    "contact": {"name": "Nguyễn Văn Thử", "phone": "0912 345 678", "email": "thu.nguyen@example.com"},
    "consent_public": True,
}


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real, valid PNG built by hand: nothing read from disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def mp4_bytes() -> bytes:
    return struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2" + b"\x00" * 32


def file_part(data: bytes, name: str) -> tuple:
    return (io.BytesIO(data), name)
