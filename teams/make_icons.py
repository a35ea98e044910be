"""Draws the two Teams app icons with the standard library only (zlib + struct), so no imaging dependency.

    python teams/make_icons.py        # rewrites teams/color.png (192x192) and teams/outline.png (32x32)

The symbol is a database cylinder. The colour icon is a white cylinder on a full blue background; the outline
icon is the cylinder drawn in white strokes on a transparent background, as Teams requires.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BLUE = (31, 94, 168)
WHITE = (255, 255, 255)
SAMPLES = 4  # supersampling per axis, for anti-aliased edges


def png(width: int, height: int, rgba: list[tuple[int, int, int, int]]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"".join(bytes(p) for p in rgba[y * width:(y + 1) * width]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def coverage(size: int, inside: Callable[[float, float], bool]) -> list[float]:
    out = []
    for py in range(size):
        for px in range(size):
            hits = sum(inside(px + (i + 0.5) / SAMPLES, py + (j + 0.5) / SAMPLES)
                       for i in range(SAMPLES) for j in range(SAMPLES))
            out.append(hits / SAMPLES ** 2)
    return out


def ellipse(x: float, y: float, cx: float, cy: float, rx: float, ry: float) -> float:
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2


def near_ellipse(x: float, y: float, cx: float, cy: float, rx: float, ry: float, width: float) -> bool:
    """Within width/2 of the ellipse outline (first-order distance estimate)."""
    e = ellipse(x, y, cx, cy, rx, ry)
    grad = math.hypot(2 * (x - cx) / rx ** 2, 2 * (y - cy) / ry ** 2) or 1e-9
    return abs(e - 1) / grad <= width / 2


def color_icon() -> bytes:
    size, cx, rx, ry, top, bottom, rim = 192, 96.0, 42.0, 14.0, 58.0, 134.0, 5.0
    bands = (top + (bottom - top) / 3, top + 2 * (bottom - top) / 3)

    def body(x: float, y: float) -> bool:
        return (abs(x - cx) <= rx and top <= y <= bottom) or ellipse(x, y, cx, top, rx, ry) <= 1 \
            or ellipse(x, y, cx, bottom, rx, ry) <= 1

    def white(x: float, y: float) -> bool:
        if not body(x, y):
            return False
        if near_ellipse(x, y, cx, top, rx - rim, ry - rim / 2, rim * 0.9):  # the lid's rim
            return False
        return not any(y >= b and near_ellipse(x, y, cx, b, rx, ry, rim) for b in bands)  # the bands

    cover = coverage(size, white)
    pixels = [tuple(round(w * c + (1 - c) * b) for w, b in zip(WHITE, BLUE)) + (255,) for c in cover]
    return png(size, size, pixels)


def outline_icon() -> bytes:
    size, cx, rx, ry, top, bottom, stroke = 32, 16.0, 10.5, 3.5, 8.0, 24.0, 1.7
    middle = (top + bottom) / 2

    def white(x: float, y: float) -> bool:
        if near_ellipse(x, y, cx, top, rx, ry, stroke):
            return True
        if top <= y <= bottom and min(abs(x - (cx - rx)), abs(x - (cx + rx))) <= stroke / 2:
            return True
        return any(y >= level and near_ellipse(x, y, cx, level, rx, ry, stroke) for level in (middle, bottom))

    cover = coverage(size, white)
    return png(size, size, [(255, 255, 255, round(255 * c)) for c in cover])


if __name__ == "__main__":
    (HERE / "color.png").write_bytes(color_icon())
    (HERE / "outline.png").write_bytes(outline_icon())
    print("wrote", HERE / "color.png", "and", HERE / "outline.png")
