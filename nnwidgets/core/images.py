"""Image data: pictures given as (n, C, H, W), (n, H, W) or channels-last (n, H, W, C), kept as one flat
(n, C·H·W) matrix so that every row-based part of the inspector (the selection, the prediction, the cache)
works on images unchanged; the model sees (n, C, H, W). Thumbnails for a gallery go out as one sprite."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

CHANNEL_COUNTS = (1, 3, 4)
LAYOUTS = ("NCHW", "NHWC", "NHW")


@dataclass(frozen=True)
class ImageLayout:
    """How the pictures were given (``given``: ``"NCHW"``, ``"NHWC"`` or ``"NHW"``) and the shape the
    model takes, ``(C, H, W)``; the pixel range over the data (``low``, ``high``) for display."""

    shape: tuple[int, int, int]
    given: str
    low: float
    high: float

    @property
    def channels(self) -> int:
        return self.shape[0]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def as_image(self, values: object) -> np.ndarray:
        """One picture — the flat row, (C, H, W), (H, W) for one channel, or (H, W, C) when the data was
        given channels-last — as a (C, H, W) float64 array; a ``ValueError`` names the shapes it takes.

        >>> layout = ImageLayout((1, 2, 2), "NHW", 0.0, 1.0)
        >>> layout.as_image([[0, 1], [1, 0]]).shape, layout.as_image([0, 1, 1, 0]).shape
        ((1, 2, 2), (1, 2, 2))
        """
        array = np.asarray(values, dtype=np.float64)
        c, h, w = self.shape
        if array.shape == self.shape or array.shape == (self.size,):
            return array.reshape(self.shape)
        if c == 1 and array.shape == (h, w):
            return array[None]
        if self.given == "NHWC" and array.shape == (h, w, c):
            return np.moveaxis(array, -1, 0)
        takes = [self.shape, (self.size,)] + ([(h, w)] if c == 1 else []) + ([(h, w, c)] if self.given == "NHWC" else [])
        raise ValueError(f"an image here has shape {self.shape} (C, H, W); got {array.shape}. "
                         f"Accepted: {', '.join(str(t) for t in takes)}")

    def names(self) -> tuple[str, ...]:
        """One name per pixel value, in the flat order: ``"y3 x5"`` (one channel) or ``"c1 y3 x5"``."""
        c, h, w = self.shape
        if c == 1:
            return tuple(f"y{y} x{x}" for y in range(h) for x in range(w))
        return tuple(f"c{k} y{y} x{x}" for k in range(c) for y in range(h) for x in range(w))


def is_image_data(X: object) -> bool:
    """Whether ``X`` is pictures (3 or 4 axes) rather than rows × features."""
    return getattr(X, "ndim", None) in (3, 4) or (isinstance(X, (list, tuple)) and np.ndim(X) in (3, 4))


def as_images(X: object, channels_last: bool | None = None) -> tuple[np.ndarray, ImageLayout]:
    """Pictures as a flat float matrix (n, C·H·W) — no copy when they are float32/float64 (n, C, H, W) or
    (n, H, W) already — and their :class:`ImageLayout`.

    The rule for 4-D arrays: channels come first (torch's (n, C, H, W)) unless ``channels_last=True``, or
    unless ``channels_last`` is not given, axis 1 cannot be channels (not 1, 3 or 4 long) and the last axis
    can: then (n, H, W, C), moved to channels-first (one copy). 3-D arrays are grey (n, H, W).

    >>> flat, layout = as_images(np.zeros((5, 8, 8)))
    >>> flat.shape, layout.shape, layout.given
    ((5, 64), (1, 8, 8), 'NHW')
    >>> as_images(np.zeros((2, 32, 32, 3), np.float32))[1].shape
    (3, 32, 32)
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    try:
        array = np.asarray(X)
        if array.dtype not in (np.float32, np.float64):
            array = array.astype(np.float32 if array.dtype in (np.float16, np.uint8, np.int8, np.uint16) else np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"images must be numeric; could not convert them: {error}") from None
    if array.ndim == 3:
        if channels_last:
            raise ValueError(f"channels_last=True needs 4-D images (n, H, W, C); got shape {array.shape}")
        array, given = array[:, None], "NHW"
    elif array.ndim == 4:
        last = channels_last if channels_last is not None else (
            array.shape[1] not in CHANNEL_COUNTS and array.shape[3] in CHANNEL_COUNTS)
        if last:
            array, given = np.ascontiguousarray(np.moveaxis(array, -1, 1)), "NHWC"
        else:
            given = "NCHW"
    else:
        raise ValueError(f"images must be 3-D (n, H, W) or 4-D (n, C, H, W) / (n, H, W, C); got shape {array.shape}")
    n, c, h, w = array.shape
    if min(n, c, h, w) == 0:
        raise ValueError(f"images are empty (shape {array.shape})")
    flat = np.ascontiguousarray(array).reshape(n, c * h * w)
    low, high = _finite_range(flat)
    return flat, ImageLayout((c, h, w), given, low, high)


def _finite_range(flat: np.ndarray, chunk: int = 4096) -> tuple[float, float]:
    """The smallest and largest pixel value; a ``ValueError`` for NaN or inf (checked in chunks)."""
    low, high = np.inf, -np.inf
    for start in range(0, len(flat), chunk):
        part = flat[start:start + chunk]
        if not np.isfinite(part).all():
            raise ValueError(f"the images contain NaN or inf (first in image {start + int(np.argwhere(~np.isfinite(part))[0][0])})")
        low, high = min(low, float(part.min())), max(high, float(part.max()))
    return low, high


def display_rgba(images: np.ndarray, low: float, high: float) -> np.ndarray:
    """Pictures (n, C, H, W) as (n, H, W, 4) uint8 for the screen: one channel as grey, three as RGB, four
    as RGBA's colour (alpha ignored), others as the mean over channels; ``low``..``high`` maps to 0..255.

    >>> display_rgba(np.array([[[[0.0, 1.0]]]]), 0.0, 1.0)[0, 0, :, 0].tolist()
    [0, 255]
    """
    images = np.asarray(images, dtype=np.float64)
    c = images.shape[1]
    if c == 1 or c not in (3, 4):
        grey = images.mean(axis=1, keepdims=True)
        rgb = np.repeat(grey, 3, axis=1)
    else:
        rgb = images[:, :3]
    span = high - low if high > low else 1.0
    scaled = np.clip((rgb - low) / span * 255.0 + 0.5, 0, 255).astype(np.uint8)
    out = np.empty((len(images), images.shape[2], images.shape[3], 4), np.uint8)
    out[..., :3] = np.moveaxis(scaled, 1, -1)
    out[..., 3] = 255
    return out


def thumbnail_size(h: int, w: int, largest: int = 48) -> tuple[int, int]:
    """A thumbnail's (height, width): the picture itself up to ``largest`` pixels, else shrunk to fit."""
    scale = min(1.0, largest / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


def sprite(images: np.ndarray, low: float, high: float, largest: int = 48, columns: int = 16) -> tuple[np.ndarray, tuple[int, int]]:
    """Thumbnails of pictures (n, C, H, W) tiled into one RGBA sheet (rows × columns of tiles): the sheet
    (uint8, sheet_h × sheet_w × 4) and the tile's (height, width). Shrinking averages each tile's pixels
    (area resampling, torch's adaptive average pooling).

    >>> sheet, tile = sprite(np.zeros((20, 1, 8, 8)), 0.0, 1.0, columns=16)
    >>> sheet.shape, tile
    ((16, 128, 4), (8, 8))
    """
    n, _, h, w = images.shape
    th, tw = thumbnail_size(h, w, largest)
    small = np.asarray(images, dtype=np.float32)
    if (th, tw) != (h, w):
        small = torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(np.ascontiguousarray(small)), (th, tw)).numpy()
    tiles = display_rgba(small, low, high)
    cols = max(1, min(columns, n))
    rows = -(-n // cols)
    sheet = np.zeros((rows * th, cols * tw, 4), np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        sheet[r * th:(r + 1) * th, c * tw:(c + 1) * tw] = tiles[i]
    return sheet, (th, tw)
