"""Draw the PEV Portal brand images into custom_components/pev_portal/brand/.

A white plug with a green lightning bolt on a green (#2e7d32) rounded square, and a logo that
adds the words "PEV PORTAL". The dark variants (dark_icon.png, dark_logo.png and their @2x, the
names Home Assistant's brands use for dark themes) draw the square in a lighter green (#43a047)
and the words in a pale green (#a5d6a7), which stand out on a dark background. Standard library only (zlib + struct): shapes are polygons filled
scanline by scanline at 4x the output size and averaged down, which anti-aliases the edges.
The output is deterministic, so re-running it changes no bytes.

    python3 scripts/make_brand.py
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

BRAND_DIR = Path(__file__).resolve().parent.parent / "custom_components" / "pev_portal" / "brand"

GREEN = (0x2E, 0x7D, 0x32)
WHITE = (0xFF, 0xFF, 0xFF)
DARK_GREEN = (0x43, 0xA0, 0x47)  # the square on dark backgrounds
DARK_TEXT = (0xA5, 0xD6, 0xA7)  # the words on dark backgrounds
SUPERSAMPLE = 4

Point = tuple[float, float]
Polygon = Sequence[Point]


# --- geometry, in units of the drawing's height (0..1, y down) -------------------------------


def arc(
    cx: float, cy: float, r: float, start_deg: float, end_deg: float, steps: int = 24
) -> list[Point]:
    """Points on a circular arc, degrees clockwise from +x (y grows downwards)."""
    return [
        (
            cx + r * math.cos(math.radians(start_deg + (end_deg - start_deg) * i / steps)),
            cy + r * math.sin(math.radians(start_deg + (end_deg - start_deg) * i / steps)),
        )
        for i in range(steps + 1)
    ]


def rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float) -> list[Point]:
    """A rectangle with circular corners of radius r."""
    return [
        *arc(x1 - r, y0 + r, r, -90, 0),
        *arc(x1 - r, y1 - r, r, 0, 90),
        *arc(x0 + r, y1 - r, r, 90, 180),
        *arc(x0 + r, y0 + r, r, 180, 270),
    ]


def capsule(a: Point, b: Point, width: float) -> list[Point]:
    """A stroke from a to b with round ends."""
    (ax, ay), (bx, by) = a, b
    angle = math.degrees(math.atan2(by - ay, bx - ax))
    r = width / 2
    return [
        *arc(bx, by, r, angle - 90, angle + 90, 10),
        *arc(ax, ay, r, angle + 90, angle + 270, 10),
    ]


def polyline(points: Sequence[Point], width: float) -> list[list[Point]]:
    """A stroked open path, as one capsule per segment (their union is the stroke)."""
    return [capsule(points[i], points[i + 1], width) for i in range(len(points) - 1)]


# --- icon -----------------------------------------------------------------------------------


def icon_layers(
    x: float = 0.0, green: tuple[int, int, int] = GREEN
) -> list[tuple[tuple[int, int, int], list[Polygon]]]:
    """The icon in a 1x1 box whose left edge is at x: (colour, union of polygons) per layer."""

    def at(points: Iterable[Point]) -> list[Point]:
        return [(x + px, py) for px, py in points]

    background = at(rounded_rect(0.0, 0.0, 1.0, 1.0, 0.2))
    # Plug: two prongs, a body with a rounded bottom, and a cord leaving downwards.
    prongs = [at(rounded_rect(cx - 0.04, 0.13, cx + 0.04, 0.34, 0.035)) for cx in (0.38, 0.62)]
    body = at([(0.25, 0.31), (0.75, 0.31), (0.75, 0.52), *arc(0.5, 0.52, 0.25, 0, 180, 40)])
    cord = at(rounded_rect(0.455, 0.70, 0.545, 0.93, 0.02))
    bolt = at(
        [(0.545, 0.36), (0.39, 0.565), (0.49, 0.565), (0.455, 0.72), (0.615, 0.50), (0.515, 0.50)]
    )
    return [(green, [background]), (WHITE, [*prongs, body, cord]), (green, [bolt])]


# --- lettering for the logo -----------------------------------------------------------------


# Strokes of each capital in a box 1 high (y down); widths are the advance before spacing.
def _letter(ch: str) -> tuple[float, list[list[Point]]]:
    bowl = [(0.0, 0.0), (0.34, 0.0), *arc(0.34, 0.27, 0.27, -90, 90, 16)[1:], (0.0, 0.54)]
    letters: dict[str, tuple[float, list[list[Point]]]] = {
        "P": (0.62, [[(0.0, 0.0), (0.0, 1.0)], bowl]),
        "E": (
            0.55,
            [[(0.55, 0.0), (0.0, 0.0), (0.0, 1.0), (0.55, 1.0)], [(0.0, 0.5), (0.46, 0.5)]],
        ),
        "V": (0.74, [[(0.0, 0.0), (0.37, 1.0), (0.74, 0.0)]]),
        "O": (
            0.86,
            [
                [
                    (0.43 + 0.43 * math.cos(t), 0.5 + 0.5 * math.sin(t))
                    for t in (2 * math.pi * i / 48 for i in range(49))
                ]
            ],
        ),
        "R": (0.64, [[(0.0, 0.0), (0.0, 1.0)], bowl, [(0.3, 0.54), (0.64, 1.0)]]),
        "T": (0.66, [[(0.0, 0.0), (0.66, 0.0)], [(0.33, 0.0), (0.33, 1.0)]]),
        "A": (0.74, [[(0.0, 1.0), (0.37, 0.0), (0.74, 1.0)], [(0.14, 0.64), (0.6, 0.64)]]),
        "L": (0.52, [[(0.0, 0.0), (0.0, 1.0), (0.52, 1.0)]]),
        " ": (0.25, []),
    }
    return letters[ch]


def text_polygons(
    text: str, x: float, y: float, cap: float, stroke: float
) -> tuple[list[Polygon], float]:
    """Polygons of text set at (x, y) (top left) with capital height cap; returns them and the end x."""
    polygons: list[Polygon] = []
    for ch in text:
        advance, strokes = _letter(ch)
        for path in strokes:
            scaled = [(x + px * cap, y + py * cap) for px, py in path]
            polygons.extend(polyline(scaled, stroke))
        x += advance * cap + stroke + 0.18 * cap
    return polygons, x - 0.18 * cap


# --- raster ---------------------------------------------------------------------------------


def coverage(polygons: Iterable[Polygon], width: int, height: int, scale: float) -> list[float]:
    """Fraction (0..1) of each output pixel covered by the union of the polygons.

    Polygon coordinates are multiplied by scale to get output pixels.
    """
    ss = SUPERSAMPLE
    w, h = width * ss, height * ss
    mask = bytearray(w * h)
    for polygon in polygons:
        pts = [(px * scale * ss, py * scale * ss) for px, py in polygon]
        ys = [p[1] for p in pts]
        row_from, row_to = max(0, math.floor(min(ys))), min(h - 1, math.ceil(max(ys)))
        edges = list(zip(pts, pts[1:] + pts[:1], strict=True))
        for row in range(row_from, row_to + 1):
            sy = row + 0.5
            xs = sorted(
                x0 + (sy - y0) * (x1 - x0) / (y1 - y0)
                for (x0, y0), (x1, y1) in edges
                if (y0 <= sy < y1) or (y1 <= sy < y0)
            )
            for left, right in zip(xs[::2], xs[1::2], strict=True):
                start, end = max(0, math.ceil(left - 0.5)), min(w - 1, math.floor(right - 0.5))
                if end >= start:
                    mask[row * w + start : row * w + end + 1] = b"\x01" * (end - start + 1)
    out = [0.0] * (width * height)
    norm = 1.0 / (ss * ss)
    for oy in range(height):
        rows = [mask[(oy * ss + k) * w : (oy * ss + k + 1) * w] for k in range(ss)]
        for ox in range(width):
            a, b = ox * ss, ox * ss + ss
            out[oy * width + ox] = sum(sum(r[a:b]) for r in rows) * norm
    return out


def render(
    layers: Sequence[tuple[tuple[int, int, int], list[Polygon]]],
    width: int,
    height: int,
    scale: float,
) -> bytes:
    """Composite the layers, in order, over a transparent canvas; returns RGBA rows."""
    rgb = [[0.0, 0.0, 0.0] for _ in range(width * height)]  # premultiplied
    alpha = [0.0] * (width * height)
    for colour, polygons in layers:
        cov = coverage(polygons, width, height, scale)
        for i, c in enumerate(cov):
            if c:
                pixel = rgb[i]
                for ch in range(3):
                    pixel[ch] = colour[ch] / 255 * c + pixel[ch] * (1 - c)
                alpha[i] = c + alpha[i] * (1 - c)
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter: none
        for x in range(width):
            i = y * width + x
            a = alpha[i]
            if a <= 0:
                raw += b"\x00\x00\x00\x00"
                continue
            raw += bytes(round(min(1.0, v / a) * 255) for v in rgb[i])
            raw.append(round(a * 255))
    return bytes(raw)


def png(width: int, height: int, rgba_rows: bytes) -> bytes:
    """A PNG file: 8-bit RGBA, non-interlaced."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rgba_rows, 9))
        + chunk(b"IEND", b"")
    )


def write(
    name: str,
    layers: Sequence[tuple[tuple[int, int, int], list[Polygon]]],
    width: int,
    height: int,
    scale: float,
) -> None:
    path = BRAND_DIR / name
    path.write_bytes(png(width, height, render(layers, width, height, scale)))
    print(f"wrote {path.relative_to(BRAND_DIR.parent.parent.parent)} ({width}x{height})")


def main() -> None:
    BRAND_DIR.mkdir(parents=True, exist_ok=True)
    # Logo: the icon, then the name in the icon's green, on one line; 1 unit = the logo height.
    cap, stroke = 0.42, 0.085
    letters, end = text_polygons("PEV PORTAL", 1.2, (1 - cap) / 2, cap, stroke)
    aspect = end + stroke / 2 + 0.04
    for prefix, green, words in (("", GREEN, GREEN), ("dark_", DARK_GREEN, DARK_TEXT)):
        icon = icon_layers(green=green)
        write(f"{prefix}icon.png", icon, 256, 256, 256)
        write(f"{prefix}icon@2x.png", icon, 512, 512, 512)
        logo = [*icon, (words, letters)]
        for name, height in (("logo.png", 256), ("logo@2x.png", 512)):
            write(f"{prefix}{name}", logo, math.ceil(aspect * height), height, height)


if __name__ == "__main__":
    main()
