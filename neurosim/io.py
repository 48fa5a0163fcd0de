"""Safe, versioned model files and atomic writes.

A model file is an ``.npz`` archive of plain numeric arrays plus one JSON metadata record.
It is written atomically (temporary file in the same folder, then ``os.replace``) and read
with ``allow_pickle=False``, so loading a file never executes code.
"""

from __future__ import annotations

import hashlib
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
    "fingerprint",
    "load_arrays",
    "save_arrays",
]


def _file_mode() -> int:
    """Mode of a new regular file under the process umask (read once, at import)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()
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
        os.chmod(tmp_name, _FILE_MODE)  # mkstemp creates 0600; give the usual umask mode
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def fingerprint(*arrays: np.ndarray | None) -> str:
    """Short SHA-256 of arrays' dtypes, shapes and bytes (``None`` allowed), e.g. to tie a
    checkpoint or a cached model to its data."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.view(np.uint8).ravel())
    return digest.hexdigest()[:16]


def _to_plain_array(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.hasobject:  # also structured dtypes with object fields: np.save would pickle
        raise TypeError(
            f"array {name!r} has dtype {array.dtype}, which holds Python objects; "
            "only numeric or string arrays are saved"
        )
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
        JSON-serialisable metadata. ``format`` and ``format_version`` are added (and so
        are reserved keys).

    Returns
    -------
    pathlib.Path
        The destination path.

    Raises
    ------
    TypeError
        An array holds Python objects, or the metadata is not JSON-serialisable.
    ValueError
        A reserved array name or metadata key is used.
    """
    if _METADATA_KEY in arrays:
        raise ValueError(f"array name {_METADATA_KEY!r} is reserved")
    reserved = sorted({"format", "format_version"} & set(metadata))
    if reserved:
        raise ValueError(f"metadata keys {reserved} are reserved and set by save_arrays")
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
    arrays = _read_archive(path)
    metadata = _pop_metadata(path, arrays)
    missing = [name for name in required if name not in arrays]
    if missing:
        raise ModelFileError(f"{path} lacks required arrays: {', '.join(missing)}")
    return arrays, metadata


def _read_archive(path: Path) -> dict[str, np.ndarray]:
    """Every member of the npz archive at ``path``, refusing pickles and anything not an array."""
    # np.load would read a bare .npy file as one array, and report any other non-zip file as
    # "pickled data"; say what is really wrong instead.
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not an npz model file (not a zip archive, or truncated)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as error:
        raise ModelFileError(
            f"{path} holds pickled objects or malformed arrays, which are never loaded "
            f"(no code is executed): {error}"
        ) from error
    except Exception as error:  # untrusted bytes: zip, zlib and npy-header parsing errors alike
        raise ModelFileError(
            f"{path} is not a readable model file (corrupt or truncated): {error!r}"
        ) from error
    not_arrays = sorted(name for name, value in arrays.items() if not isinstance(value, np.ndarray))
    if not_arrays:
        raise ModelFileError(f"{path} holds members that are not .npy arrays: {not_arrays}")
    return arrays


def _pop_metadata(path: Path, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Take the metadata record out of ``arrays`` and check its format name and version."""
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
    return metadata
