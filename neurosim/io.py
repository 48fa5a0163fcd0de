"""Safe, versioned model files and atomic writes.

A model file is an ``.npz`` archive of plain numeric arrays plus one JSON metadata record.
It is written atomically (temporary file in the same folder, then ``os.replace``) and read
with ``allow_pickle=False``, so loading a file never executes code.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFileError",
    "atomic_write",
    "load_arrays",
    "save_arrays",
]

FORMAT_NAME = "neurosim-model"
FORMAT_VERSION = 1
_METADATA_KEY = "__metadata__"


class ModelFileError(ValueError):
    """A model or checkpoint file is missing, corrupt, truncated or of an unknown format."""


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Write a file so that readers see either the old or the complete new content.

    Parameters
    ----------
    path : str or path-like
        Destination. Its folder is created if needed.
    write : callable
        Called with a binary file object opened on a temporary file in the same folder.

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def _to_plain_array(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"array {name!r} has dtype object; only numeric or string arrays are saved")
    return array


def save_arrays(
    path: str | os.PathLike, arrays: Mapping[str, Any], metadata: Mapping[str, Any]
) -> Path:
    """Atomically save numeric arrays and JSON metadata as an ``.npz`` model file.

    Parameters
    ----------
    path : str or path-like
        Destination file (``.npz`` is *not* appended).
    arrays : mapping of str to array-like
        Plain numeric or string arrays; object arrays are refused.
    metadata : mapping
        JSON-serialisable metadata. ``format`` and ``format_version`` are added.

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    if _METADATA_KEY in arrays:
        raise ValueError(f"array name {_METADATA_KEY!r} is reserved")
    record = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **metadata}
    payload = {name: _to_plain_array(name, value) for name, value in arrays.items()}
    payload[_METADATA_KEY] = np.frombuffer(json.dumps(record).encode("utf-8"), dtype=np.uint8)
    return atomic_write(path, lambda handle: np.savez(handle, **payload))


def load_arrays(
    path: str | os.PathLike, required: tuple[str, ...] = ()
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load a model file written by :func:`save_arrays` without executing any code.

    Parameters
    ----------
    path : str or path-like
        File to read.
    required : tuple of str
        Array names that must be present.

    Returns
    -------
    arrays : dict of str to numpy.ndarray
    metadata : dict

    Raises
    ------
    ModelFileError
        If the file is missing, not an npz archive, truncated, holds pickled objects,
        lacks metadata or required arrays, or has an unsupported format version.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as error:
        raise ModelFileError(
            f"{path} holds pickled objects, which are never loaded (no code is executed): {error}"
        ) from error
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
        raise ModelFileError(f"{path} is not a readable model file (corrupt or truncated): {error}")
    if _METADATA_KEY not in arrays:
        raise ModelFileError(f"{path} has no neurosim metadata record; was it written by neurosim?")
    try:
        metadata = json.loads(arrays.pop(_METADATA_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{path} has a corrupt metadata record: {error}") from error
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a {FORMAT_NAME} file")
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format version {version!r}; this neurosim reads version {FORMAT_VERSION}"
        )
    missing = [name for name in required if name not in arrays]
    if missing:
        raise ModelFileError(f"{path} lacks required arrays: {', '.join(missing)}")
    return arrays, metadata
