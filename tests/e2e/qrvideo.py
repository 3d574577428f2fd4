"""A video file Chromium's fake camera plays: a QR code, as a phone held up to a desk would show it.

Chromium reads ``--use-file-for-fake-video-capture=<file>.y4m`` (YUV4MPEG2, 4:2:0) and loops it. The QR
matrix comes from segno (the same library that draws the tickets); each module is a square of pixels on
a white page, centred in a grey frame like a screen held at arm's length.
"""

from __future__ import annotations

from pathlib import Path

import segno


def qr_y4m(text: str, path: Path, width: int = 640, height: int = 480, frames: int = 10) -> Path:
    """Write `frames` identical frames showing `text` as a QR code; return `path`."""
    qr = segno.make(text, error="m")
    rows = [list(r) for r in qr.matrix]
    border, n = 4, len(rows)
    size = n + 2 * border
    scale = max(2, min(width, height) * 8 // 10 // size)
    side = size * scale
    left, top = (width - side) // 2, (height - side) // 2
    luma = bytearray([96]) * (width * height)  # a grey background
    for y in range(side):
        my = y // scale - border
        line = (top + y) * width + left
        for x in range(side):
            mx = x // scale - border
            dark = 0 <= my < n and 0 <= mx < n and rows[my][mx]
            luma[line + x] = 16 if dark else 235
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)
    return path
