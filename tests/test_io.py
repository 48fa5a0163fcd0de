"""Tests of neurosim.io: atomic writes and safe, versioned model files."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neurosim.io import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ModelFileError,
    atomic_write,
    load_arrays,
    save_arrays,
)

METADATA_KEY = "__metadata__"


def metadata_array(record) -> np.ndarray:
    return np.frombuffer(json.dumps(record).encode("utf-8"), dtype=np.uint8)


def valid_record(**changes):
    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **changes}


def write_npz(path: Path, **arrays) -> Path:
    """An npz archive written directly with numpy, bypassing save_arrays' checks."""
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return {
        "weights": rng.standard_normal((7, 5)).astype(np.float32),
        "bias": rng.standard_normal(5),
        "counts": np.arange(12, dtype=np.int64).reshape(3, 4),
        "mask": np.array([True, False, True]),
        "classes_": np.array(["cat", "dog"]),
        "scalar": np.float64(0.25),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


@pytest.fixture
def model_file(tmp_path, arrays) -> Path:
    return save_arrays(tmp_path / "model.npz", arrays, {"estimator": "Thing", "n": 3})


# -- atomic_write ------------------------------------------------------------------------------
def test_atomic_write_writes_and_creates_folders(tmp_path):
    target = tmp_path / "a" / "b" / "file.bin"
    assert atomic_write(target, lambda handle: handle.write(b"payload")) == target
    assert target.read_bytes() == b"payload"
    assert listing(target.parent) == ["file.bin"]


def test_atomic_write_accepts_str_and_replaces(tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    result = atomic_write(str(target), lambda handle: handle.write(b"new"))
    assert result == target and isinstance(result, Path)
    assert target.read_bytes() == b"new"
    assert listing(tmp_path) == ["file.bin"]


@pytest.mark.parametrize("error", [RuntimeError("writer broke"), KeyboardInterrupt()])
def test_atomic_write_keeps_old_content_when_writer_fails(tmp_path, error):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old content")
    seen_during_write = []

    def writer(handle):
        handle.write(b"new content, half of it")
        handle.flush()
        seen_during_write.append(target.read_bytes())  # readers still see the old file
        raise error

    with pytest.raises(type(error)):
        atomic_write(target, writer)
    assert seen_during_write == [b"old content"]
    assert target.read_bytes() == b"old content"
    assert listing(tmp_path) == ["file.bin"]  # no temporary file left


def test_atomic_write_creates_nothing_when_writer_fails(tmp_path):
    def writer(handle):
        handle.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(tmp_path / "new.bin", writer)
    assert listing(tmp_path) == []


def test_atomic_write_cleans_up_when_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")

    def failing_replace(src, dst):
        raise PermissionError("rename refused")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        atomic_write(target, lambda handle: handle.write(b"new"))
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert listing(tmp_path) == ["file.bin"]


# -- save_arrays / load_arrays round trip ------------------------------------------------------
def test_round_trip(model_file, arrays):
    loaded, metadata = load_arrays(model_file, required=("weights", "classes_"))
    assert sorted(loaded) == sorted(arrays)
    for name, value in arrays.items():
        assert loaded[name].dtype == np.asarray(value).dtype, name
        assert loaded[name].shape == np.shape(value), name
        np.testing.assert_array_equal(loaded[name], value)
    assert metadata == {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "estimator": "Thing",
        "n": 3,
    }


def test_round_trip_nested_metadata(tmp_path):
    record = {"history": [{"epoch": 1, "loss": 0.5}], "params": {"a": None, "b": [1, 2]}}
    record["unicode"] = "µs, 5 ms"
    path = save_arrays(tmp_path / "m.npz", {"w": np.ones(2)}, record)
    _, metadata = load_arrays(path)
    assert {k: metadata[k] for k in record} == record


def test_save_does_not_append_a_suffix(tmp_path):
    path = save_arrays(tmp_path / "model.bin", {"w": np.ones(3)}, {})
    assert path == tmp_path / "model.bin"
    assert listing(tmp_path) == ["model.bin"]
    np.testing.assert_array_equal(load_arrays(path)[0]["w"], np.ones(3))


def test_save_overwrites_atomically(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"w": np.zeros(3)}, {"v": 1})
    save_arrays(path, {"w": np.ones(3)}, {"v": 2})
    loaded, metadata = load_arrays(path)
    np.testing.assert_array_equal(loaded["w"], np.ones(3))
    assert metadata["v"] == 2
    assert listing(tmp_path) == ["m.npz"]


def test_save_accepts_lists(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"w": [[1.0, 2.0], [3.0, 4.0]]}, {})
    np.testing.assert_array_equal(load_arrays(path)[0]["w"], [[1.0, 2.0], [3.0, 4.0]])


# -- what save_arrays refuses ------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        np.array([1, "a", None], dtype=object),
        np.array([{"a": 1}], dtype=object),
        np.zeros(2, dtype=[("x", "f8"), ("obj", "O")]),
    ],
    ids=["mixed", "dicts", "structured-with-object-field"],
)
def test_object_arrays_are_refused(tmp_path, bad):
    old = save_arrays(tmp_path / "m.npz", {"w": np.zeros(2)}, {})
    old_bytes = old.read_bytes()
    with pytest.raises(TypeError, match="'bad'"):
        save_arrays(old, {"w": np.ones(2), "bad": bad}, {})
    assert old.read_bytes() == old_bytes
    assert listing(tmp_path) == ["m.npz"]


def test_reserved_array_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        save_arrays(tmp_path / "m.npz", {METADATA_KEY: np.zeros(1)}, {})
    assert listing(tmp_path) == []


@pytest.mark.parametrize("key", ["format", "format_version"])
def test_reserved_metadata_keys_are_refused(tmp_path, key):
    with pytest.raises(ValueError, match="reserved"):
        save_arrays(tmp_path / "m.npz", {"w": np.zeros(1)}, {key: 99})
    assert listing(tmp_path) == []


def test_unserialisable_metadata_writes_nothing(tmp_path):
    with pytest.raises(TypeError):
        save_arrays(tmp_path / "m.npz", {"w": np.zeros(1)}, {"f": object()})
    assert listing(tmp_path) == []


# -- load errors -------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_arrays(tmp_path / "nope.npz")


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(ModelFileError):
        load_arrays(tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, I am a text file\n", b"PK\x03\x04 not really a zip", bytes(range(256)) * 4],
    ids=["empty", "text", "fake-zip-magic", "binary"],
)
def test_not_a_zip(tmp_path, content):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not"):
        load_arrays(path)


def test_bare_npy_file(tmp_path):
    path = tmp_path / "m.npy"
    np.save(path, np.arange(5))
    with pytest.raises(ModelFileError, match="zip"):
        load_arrays(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99, -1, -22])
def test_truncated_file(tmp_path, model_file, keep):
    raw = model_file.read_bytes()
    cut = int(len(raw) * keep) if keep > 0 else len(raw) + keep
    model_file.write_bytes(raw[:cut])
    with pytest.raises(ModelFileError):
        load_arrays(model_file)


def test_corrupted_array_bytes(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"w": np.zeros(1000)}, {})
    raw = bytearray(path.read_bytes())
    start = raw.index(b"\x93NUMPY")  # the first member's data
    raw[start + 500] ^= 0xFF  # inside the array data: the zip CRC no longer matches
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError):
        load_arrays(path)


@pytest.mark.parametrize(
    "member, data, match",
    [
        ("w.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': <<<<   \n", None),  # malformed header
        ("notes.txt", b"just text", "notes.txt"),  # a member that is not an array
    ],
)
def test_bad_zip_member_beside_valid_metadata(tmp_path, member, data, match):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, data)
        archive.writestr(f"{METADATA_KEY}.npy", npy_bytes(metadata_array(valid_record())))
    with pytest.raises(ModelFileError, match=match):
        load_arrays(path)


def test_missing_metadata(tmp_path):
    path = write_npz(tmp_path / "m.npz", w=np.zeros(3))
    with pytest.raises(ModelFileError, match="metadata"):
        load_arrays(path)


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\x00garbage", b"{not json", b"[1, 2, 3]", b'"a string"', b"null"],
    ids=["not-utf8", "not-json", "json-list", "json-string", "json-null"],
)
def test_corrupt_metadata(tmp_path, raw):
    path = write_npz(
        tmp_path / "m.npz", w=np.zeros(3), **{METADATA_KEY: np.frombuffer(raw, np.uint8)}
    )
    with pytest.raises(ModelFileError):
        load_arrays(path)


@pytest.mark.parametrize(
    "record",
    [
        {"format_version": FORMAT_VERSION},
        {"format": "some-other-format", "format_version": FORMAT_VERSION},
        {"format": FORMAT_NAME.upper(), "format_version": FORMAT_VERSION},
    ],
    ids=["no-format", "other-format", "wrong-case"],
)
def test_wrong_format_name(tmp_path, record):
    path = write_npz(tmp_path / "m.npz", w=np.zeros(3), **{METADATA_KEY: metadata_array(record)})
    with pytest.raises(ModelFileError, match=FORMAT_NAME):
        load_arrays(path)


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 0, None, "1"])
def test_wrong_format_version(tmp_path, version):
    record = {"format": FORMAT_NAME, "format_version": version}
    path = write_npz(tmp_path / "m.npz", w=np.zeros(3), **{METADATA_KEY: metadata_array(record)})
    with pytest.raises(ModelFileError, match="version"):
        load_arrays(path)


def test_missing_version(tmp_path):
    record = {"format": FORMAT_NAME}
    path = write_npz(tmp_path / "m.npz", w=np.zeros(3), **{METADATA_KEY: metadata_array(record)})
    with pytest.raises(ModelFileError, match="version"):
        load_arrays(path)


def test_missing_required_arrays(model_file):
    with pytest.raises(ModelFileError, match="coefs_, theta_"):
        load_arrays(model_file, required=("weights", "coefs_", "theta_"))


def test_metadata_is_not_an_array(model_file):
    loaded, _ = load_arrays(model_file)
    assert METADATA_KEY not in loaded


class _CreatesMarker:
    """Unpickling this object creates a folder: proof that code from the file ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_pickled_object_array_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "code-was-executed"
    evil = np.array([_CreatesMarker(marker)], dtype=object)
    path = write_npz(
        tmp_path / "m.npz",
        evil=evil,
        w=np.zeros(3),
        **{METADATA_KEY: metadata_array(valid_record())},
    )
    with pytest.raises(ModelFileError, match="pickle"):
        load_arrays(path, required=("evil",))
    assert not marker.exists()
    # Control: the file really does carry a payload that runs when pickles are allowed.
    with np.load(path, allow_pickle=True) as archive:
        archive["evil"]
    assert marker.is_dir()


def test_model_file_error_is_a_value_error(tmp_path):
    with pytest.raises(ValueError):
        load_arrays(tmp_path / "missing.npz")
