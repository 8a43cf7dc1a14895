"""The safe file layer: paths named inside data files, reads, and writes (docs/security.md).

A leaderboard scores strangers' submissions, so every file concern goes through here:

* a path named inside a data file (a panoptic ``file_name``, a Cityscapes mask path) is
  resolved against its folder and must stay inside it, also after resolving symlinks
  (:func:`resolve_inside`; following symlinks out is the user's opt-in, ``allow_outside``);
* only regular files are opened, without blocking on FIFOs, and a size cap is checked on the
  open file before anything is allocated (:func:`read_regular`);
* image dimensions are read from the header and checked against the expected size or a pixel
  limit before any pixel is decoded (:func:`png_size`, :func:`check_pixels`);
* outputs never overwrite an input, need an existing folder, refuse an existing file unless
  forced (:func:`check_output`), and are written atomically (:func:`write_atomic`);
* messages quote at most a few bytes of untrusted content (:func:`quote`).
"""

from __future__ import annotations

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "check_output",
    "check_pixels",
    "png_size",
    "quote",
    "read_head",
    "read_regular",
    "resolve_inside",
    "write_atomic",
]

import functools
import math
import os
import stat
import struct
import tempfile
from collections.abc import Iterable
from pathlib import Path

from benchmark_eval.errors import ConfigError, FormatError, Problem

MAX_FILE_BYTES = 1 << 30  # one image or text file read whole: 1 GiB
MAX_PIXELS = 1 << 28  # 268M pixels (16384 x 16384): 4 bytes each stay under 1 GiB
_QUOTED = 40  # characters of untrusted text shown in a message
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def quote(text: object, limit: int = _QUOTED) -> str:
    """``repr`` of untrusted content, cut to ``limit`` characters."""
    r = repr(text)
    return r if len(r) <= limit else r[: limit - 3] + "..."


@functools.lru_cache(maxsize=256)
def _real_folder(folder: str) -> str:
    return os.path.realpath(folder)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def resolve_inside(folder: str | Path, name: str, *, where: str,
                   allow_outside: bool = False, record: int | None = None,
                   field: str | None = None) -> Path:
    """``folder / name`` (normalised, symlinks kept so messages name the file as given),
    refused unless it stays inside ``folder``.

    Absolute names and names climbing out with ``..`` are always refused; a name that
    leaves ``folder`` only once symlinks are resolved is refused unless ``allow_outside``
    (the user's opt-in, ``--allow-symlinks``). This runs once per image: the folder is
    resolved once per process, a plain file directly in it costs one ``lstat``.

    Args:
        where: The data file naming the path (``record`` / ``field``: its record).
        allow_outside: Follow symlinks that lead out of ``folder``.

    Raises:
        FormatError: The name is empty, not text, or leads outside ``folder``.
    """
    if not isinstance(name, str) or not name or "\0" in name:
        raise FormatError(Problem(where, f"expected a relative file name, got {quote(name)}",
                                  record, field))
    root = _real_folder(os.path.abspath(folder))
    plain = os.path.normpath(os.path.join(root, name))
    if not _under(plain, root):
        raise FormatError(Problem(
            where, f"file name {quote(name)} leads outside its folder {root} (absolute paths"
                   " and '..' are refused)", record, field))
    direct = os.path.dirname(plain) == root and not os.path.islink(plain)
    if not (allow_outside or direct or _under(os.path.realpath(plain), root)):
        raise FormatError(Problem(
            where, f"file name {quote(name)} leads outside its folder {root} through a"
                   " symlink (symlinks out of the folder are refused unless allowed:"
                   " --allow-symlinks)", record, field))
    return Path(plain)


def _open_regular(path: str | Path, where: str) -> tuple[int, os.stat_result]:
    """A non-blocking descriptor of a regular file and its ``fstat`` (closed on refusal)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FormatError(Problem(where, "file not found")) from None
    except OSError as exc:
        raise FormatError(Problem(where, f"cannot open: {exc.strerror}")) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise FormatError(Problem(where, "not a regular file (devices, FIFOs, sockets and"
                                         " folders are refused)"))
    return fd, info


def read_regular(path: str | Path, *, where: str | None = None,
                 max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``.

    FIFOs, devices and folders are refused without reading (the file is opened
    non-blocking and checked with ``fstat``); the size is checked before reading.

    Raises:
        FormatError: Missing, not a regular file, unreadable, or too large.
    """
    where = where or str(path)
    fd, info = _open_regular(path, where)
    try:
        if info.st_size > max_bytes:
            raise FormatError(Problem(where, f"file of {info.st_size} bytes is over the"
                                             f" {max_bytes}-byte limit"))
        with os.fdopen(fd, "rb", closefd=False) as f:  # read(n) allocates n bytes first
            data = f.read(min(info.st_size, max_bytes) + 1)
    except OSError as exc:
        raise FormatError(Problem(where, f"cannot read: {exc.strerror}")) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # grew while reading
        raise FormatError(Problem(where, f"file is over the {max_bytes}-byte limit"))
    return data


def read_head(path: str | Path, n: int, *, where: str | None = None) -> bytes:
    """The first ``n`` bytes of a regular file (a PNG header), refused as
    :func:`read_regular` refuses.

    Raises:
        FormatError: Missing, not a regular file, or unreadable.
    """
    where = where or str(path)
    fd, _ = _open_regular(path, where)
    try:
        return os.read(fd, n)
    except OSError as exc:
        raise FormatError(Problem(where, f"cannot read: {exc.strerror}")) from None
    finally:
        os.close(fd)


def png_size(data: bytes) -> tuple[int, int] | None:
    """``(height, width)`` from a PNG's IHDR chunk, or None if ``data`` is not a PNG."""
    if len(data) < 24 or not data.startswith(_PNG_MAGIC) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(height), int(width)


def check_pixels(size: tuple[int, ...], *, where: str,
                 expected: tuple[int, int] | None = None, max_pixels: int = MAX_PIXELS
                 ) -> None:
    """Refuse an image whose declared ``(height, width, ...)`` differs from ``expected``
    or exceeds ``max_pixels``, before anything is decoded or allocated.

    Raises:
        FormatError: Wrong or too large size.
    """
    h, w = size[0], size[1]
    if expected is not None and (h, w) != tuple(expected):
        raise FormatError(Problem(where, f"image is {w}x{h} (width x height), expected"
                                         f" {expected[1]}x{expected[0]}"))
    n = math.prod(int(d) for d in size)
    if n > max_pixels:
        raise FormatError(Problem(where, f"image of {w}x{h} declares {n} values, over the"
                                         f" {max_pixels} limit"))


def check_output(path: str | Path, *, inputs: Iterable[str | Path] = (), force: bool = False,
                 folder: bool = False) -> Path:
    """Check an output path before any work: its parent folder exists, it is not an input,
    and it does not exist unless ``force`` (an output folder may exist if empty).

    Raises:
        ConfigError: The output cannot or must not be written.
    """
    out = Path(path)
    parent = out.resolve().parent
    if not parent.is_dir():
        raise ConfigError(f"cannot write {out}: folder {parent} does not exist")
    resolved = out.resolve()
    for given in inputs:
        src = Path(given).resolve()
        if resolved == src or (src.is_dir() and resolved.is_relative_to(src) and not folder):
            raise ConfigError(f"refusing to write {out}: it is an input ({given})")
        if folder and src.is_relative_to(resolved):
            raise ConfigError(f"refusing to write into {out}: it holds the input {given}")
    if folder:
        if out.exists() and not out.is_dir():
            raise ConfigError(f"cannot write into {out}: it is a file")
        if out.is_dir() and any(out.iterdir()) and not force:
            raise ConfigError(f"refusing to write into {out}: not empty (use --force)")
    elif out.is_dir():
        raise ConfigError(f"cannot write {out}: it is a folder")
    elif out.exists() and not force:
        raise ConfigError(f"refusing to overwrite {out} (use --force)")
    return out


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place, so a
    reader never sees half a file and an interrupted run leaves the old one."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.resolve().parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
