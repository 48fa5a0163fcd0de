"""Tests of neurosim.data: IDX parsing, the MNIST search path, downloads, subsets, digits.

Nothing here touches the network or the real user cache: an autouse fixture points
``XDG_CACHE_HOME`` and ``HOME`` at ``tmp_path``, unsets ``NEUROSIM_DATA`` and makes
``urllib.request.urlopen`` fail the test if anything tries to use it.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import neurosim.data as data
from neurosim.data import (
    MNIST_MIRRORS,
    DatasetChecksumError,
    DatasetFormatError,
    DatasetNotFoundError,
    load_digits_784,
    load_mnist,
    mnist_cache_dir,
    stratified_subset,
)

STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
ALL_STEMS = [stem for pair in STEMS.values() for stem in pair]
REAL_MNIST = Path(os.environ.get("NEUROSIM_TEST_MNIST", "/work/shared/data/mnist"))
REAL_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
PUBLISHED_SHA256 = dict(data.MNIST_SHA256)
INVALID_GZIP = gzip.compress(b"")[:10] + b"\x07" + bytes(20)  # deflate block type 3: invalid


# -- helpers -----------------------------------------------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    """Valid IDX bytes (idx3 for 3-D, idx1 for 1-D arrays) of unsigned bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = {3: 0x00000803, 1: 0x00000801}[array.ndim]
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def idx_header(magic: int, *dims: int) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in dims)


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # the full byte range is present
    labels = (np.arange(n) % 10).astype(np.uint8)
    rng.shuffle(labels)
    return images, labels


class FakeMnist:
    """Synthetic IDX files for both splits, with their hashes registered as the known ones."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.arrays = {}
        for split, n, seed in (("train", 30, 1), ("test", 20, 2)):
            images, labels = synthetic(n, seed)
            self.arrays[split] = (images, labels)
        self.content = {
            stem: idx_bytes(array)
            for split, (images, labels) in self.arrays.items()
            for stem, array in zip(STEMS[split], (images, labels), strict=True)
        }
        self.gz = {stem: gzip.compress(content) for stem, content in self.content.items()}
        self.sha = {stem: hashlib.sha256(c).hexdigest() for stem, c in self.content.items()}
        monkeypatch.setattr(data, "MNIST_SHA256", dict(self.sha))

    def write(self, folder: Path, *, gz: bool = True, stems=ALL_STEMS) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for stem in stems:
            if gz:
                (folder / f"{stem}.gz").write_bytes(self.gz[stem])
            else:
                (folder / stem).write_bytes(self.content[stem])
        return folder

    def expected(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        images, labels = self.arrays[split]
        return images.reshape(len(images), -1) / 255.0, labels.astype(np.int64)

    def mirror(self, url: str) -> bytes:
        """A well-behaved fetcher serving the gzipped files under any mirror."""
        return self.gz[url.rsplit("/", 1)[-1].removesuffix(".gz")]


def write_garbage(folder: Path, stems=ALL_STEMS) -> Path:
    """Files that fail any use: reading them in a test that should not, fails it."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        (folder / stem).write_bytes(b"this is not an IDX file at all")
    return folder


def no_fetch(url: str) -> bytes:
    raise AssertionError(f"unexpected download of {url}")


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No real cache, no NEUROSIM_DATA from the shell, no network."""
    monkeypatch.delenv("NEUROSIM_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LOCALAPPDATA", raising=False)

    def offline(*args, **kwargs):
        raise AssertionError("a test tried to open a network connection")

    monkeypatch.setattr(urllib.request, "urlopen", offline)


@pytest.fixture
def fake(monkeypatch) -> FakeMnist:
    return FakeMnist(monkeypatch)


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "xdg-cache" / "neurosim" / "mnist"


# -- the cache folder --------------------------------------------------------------------------
def test_cache_dir_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert mnist_cache_dir() == tmp_path / "elsewhere" / "neurosim" / "mnist"


@pytest.mark.skipif(os.name == "nt", reason="POSIX default")
def test_cache_dir_defaults_to_home_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert mnist_cache_dir() == tmp_path / "home" / ".cache" / "neurosim" / "mnist"


def test_cache_dir_is_not_created_by_asking(cache):
    assert mnist_cache_dir() == cache
    assert not cache.exists()


# -- loading from each place -------------------------------------------------------------------
@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_load_from_data_home(tmp_path, fake, split, gz):
    folder = fake.write(tmp_path / "home-data", gz=gz)
    X, y = load_mnist(split, data_home=folder, fetch=no_fetch)
    X_expected, y_expected = fake.expected(split)
    assert X.shape == (len(y_expected), 784)
    assert X.dtype == np.float32
    assert y.dtype == np.int64
    assert y.shape == (len(y_expected),)
    np.testing.assert_allclose(X, X_expected, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(y, y_expected)
    assert X.min() == 0.0 and X.max() == 1.0


def test_data_home_accepts_str(tmp_path, fake):
    folder = fake.write(tmp_path / "d")
    X, _ = load_mnist("test", data_home=str(folder), download=False)
    assert X.shape == (20, 784)


def test_load_from_neurosim_data(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("NEUROSIM_DATA", str(fake.write(tmp_path / "env-data", gz=False)))
    X, y = load_mnist("test", fetch=no_fetch)
    np.testing.assert_array_equal(y, fake.expected("test")[1])
    assert X.shape == (20, 784)


def test_load_from_cache_without_downloading(fake, cache):
    fake.write(cache)
    X, y = load_mnist("train", fetch=no_fetch)
    np.testing.assert_array_equal(y, fake.expected("train")[1])
    np.testing.assert_allclose(X, fake.expected("train")[0], atol=1e-7)


def test_data_home_comes_before_neurosim_data_and_cache(tmp_path, fake, monkeypatch, cache):
    monkeypatch.setenv("NEUROSIM_DATA", str(write_garbage(tmp_path / "env-data")))
    write_garbage(cache)
    X, y = load_mnist("test", data_home=fake.write(tmp_path / "d"), fetch=no_fetch)
    np.testing.assert_array_equal(y, fake.expected("test")[1])


def test_neurosim_data_comes_before_cache(tmp_path, fake, monkeypatch, cache):
    monkeypatch.setenv("NEUROSIM_DATA", str(fake.write(tmp_path / "env-data")))
    write_garbage(cache)
    _, y = load_mnist("test", fetch=no_fetch)
    np.testing.assert_array_equal(y, fake.expected("test")[1])


def test_later_folders_fill_in_files_missing_from_earlier_ones(tmp_path, fake, cache):
    images, labels = STEMS["test"]
    fake.write(tmp_path / "d", stems=[images])
    fake.write(cache, stems=[labels])
    _, y = load_mnist("test", data_home=tmp_path / "d", fetch=no_fetch)
    np.testing.assert_array_equal(y, fake.expected("test")[1])


def test_empty_neurosim_data_is_ignored(fake, monkeypatch, cache):
    monkeypatch.setenv("NEUROSIM_DATA", "")
    fake.write(cache)
    _, y = load_mnist("test", fetch=no_fetch)
    assert len(y) == 20


@pytest.mark.parametrize("split", ["validation", "Train", "", None])
def test_split_is_validated(split):
    with pytest.raises(ValueError, match="split"):
        load_mnist(split, fetch=no_fetch)


# -- corrupt files ----------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_wrong_magic_number(tmp_path, fake, gz):
    folder = fake.write(tmp_path / "d", gz=gz)
    images, _ = fake.arrays["test"]
    content = idx_header(0x00000801, *images.shape) + images.tobytes()  # idx1 magic on images
    stem = "t10k-images-idx3-ubyte"
    path = folder / (f"{stem}.gz" if gz else stem)
    path.write_bytes(gzip.compress(content) if gz else content)
    with pytest.raises(DatasetFormatError, match="magic"):
        load_mnist("test", data_home=folder, download=False)


@pytest.mark.parametrize("stem", ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
@pytest.mark.parametrize("cut", ["header", "body", "one-byte", "empty"])
@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_truncated_file(tmp_path, fake, stem, cut, gz):
    folder = fake.write(tmp_path / "d", gz=gz)
    content = fake.content[stem]
    header = 16 if "idx3" in stem else 8
    keep = {"header": header - 3, "body": header + 5, "one-byte": len(content) - 1, "empty": 0}
    truncated = content[: keep[cut]]
    path = folder / (f"{stem}.gz" if gz else stem)
    path.write_bytes(gzip.compress(truncated) if gz else truncated)
    with pytest.raises(DatasetFormatError, match="truncated") as info:
        load_mnist("test", data_home=folder, download=False)
    assert not isinstance(info.value, DatasetChecksumError)  # found by parsing, not by hash
    assert str(path) in str(info.value)


def test_padded_file(tmp_path, fake):
    folder = fake.write(tmp_path / "d", gz=False)
    stem = "t10k-labels-idx1-ubyte"
    (folder / stem).write_bytes(fake.content[stem] + b"\x00")
    with pytest.raises(DatasetFormatError, match="padded"):
        load_mnist("test", data_home=folder, download=False)


def test_header_whose_size_overflows_int64(tmp_path, fake):
    # 2**16 * 2**24 * 2**24 == 2**64, which wraps to 0 in int64 arithmetic
    folder = fake.write(tmp_path / "d", gz=False)
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_header(0x803, 2**16, 2**24, 2**24))
    with pytest.raises(DatasetFormatError, match="truncated"):
        load_mnist("test", data_home=folder, download=False)


@pytest.mark.parametrize("damage", ["invalid-deflate", "truncated-gzip", "crc-mismatch"])
def test_corrupt_gzip(tmp_path, fake, damage):
    folder = fake.write(tmp_path / "d")
    stem = "t10k-images-idx3-ubyte"
    good = fake.gz[stem]
    bad = {
        "invalid-deflate": INVALID_GZIP,
        "truncated-gzip": good[: len(good) // 2],
        "crc-mismatch": good[:-8] + bytes(8),
    }[damage]
    (folder / f"{stem}.gz").write_bytes(bad)
    with pytest.raises(DatasetFormatError, match="gzip"):
        load_mnist("test", data_home=folder, download=False)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_checksum_mismatch(tmp_path, fake, gz):
    folder = fake.write(tmp_path / "d", gz=gz)
    stem = "t10k-images-idx3-ubyte"
    images, _ = fake.arrays["test"]
    other = images.copy()
    other[3, 14, 14] ^= 1  # same shape, one bit off: a valid IDX file, but not the published one
    content = idx_bytes(other)
    path = folder / (f"{stem}.gz" if gz else stem)
    path.write_bytes(gzip.compress(content) if gz else content)
    with pytest.raises(DatasetChecksumError, match="SHA-256") as info:
        load_mnist("test", data_home=folder, download=False)
    assert str(path) in str(info.value)
    assert hashlib.sha256(content).hexdigest() in str(info.value)
    assert isinstance(info.value, DatasetFormatError)


def test_published_hashes_reject_synthetic_files(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(data, "MNIST_SHA256", PUBLISHED_SHA256)
    with pytest.raises(DatasetChecksumError):
        load_mnist("test", data_home=fake.write(tmp_path / "d"), download=False)


def test_image_label_count_mismatch(tmp_path, monkeypatch):
    images, labels = synthetic(12, seed=3)
    content = {
        "t10k-images-idx3-ubyte": idx_bytes(images),
        "t10k-labels-idx1-ubyte": idx_bytes(labels[:11]),
    }
    monkeypatch.setattr(
        data, "MNIST_SHA256", {stem: hashlib.sha256(c).hexdigest() for stem, c in content.items()}
    )
    for stem, c in content.items():
        (tmp_path / stem).write_bytes(c)
    with pytest.raises(DatasetFormatError, match="12 images but 11 labels") as info:
        load_mnist("test", data_home=tmp_path, download=False)
    assert not isinstance(info.value, DatasetChecksumError)


# -- missing files and downloads ---------------------------------------------------------------
def test_missing_files_with_downloads_disabled(tmp_path, cache):
    calls = []
    with pytest.raises(DatasetNotFoundError, match="downloads are disabled") as info:
        load_mnist("test", data_home=tmp_path / "nowhere", download=False, fetch=calls.append)
    assert calls == []
    assert str(tmp_path / "nowhere") in str(info.value)
    assert str(cache) in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert files_in(cache) == []


@pytest.mark.parametrize(
    "error",
    [
        urllib.error.URLError("no route to host"),
        OSError("connection reset"),
        TimeoutError("timed out"),
        http.client.IncompleteRead(b"partial"),
    ],
    ids=["URLError", "OSError", "timeout", "IncompleteRead"],
)
def test_failing_download_gives_a_helpful_not_found_error(tmp_path, cache, error):
    urls = []

    def fetch(url):
        urls.append(url)
        raise error

    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist("test", data_home=tmp_path / "nowhere", fetch=fetch)
    message = str(info.value)
    assert "data_home" in message
    assert "NEUROSIM_DATA" in message
    assert str(cache) in message
    assert urls == [f"{mirror}t10k-images-idx3-ubyte.gz" for mirror in MNIST_MIRRORS]
    for url in urls:
        assert url in message  # every mirror's failure is reported
    assert files_in(cache) == []  # no partial or temporary file left behind


@pytest.mark.parametrize(
    "first_mirror",
    ["html-page", "invalid-gzip", "truncated-gzip", "wrong-content", "raises"],
)
def test_bad_first_mirror_falls_back_to_the_next(fake, cache, first_mirror):
    urls = []

    def fetch(url):
        urls.append(url)
        good = fake.mirror(url)
        if not url.startswith(MNIST_MIRRORS[0]):
            return good
        if first_mirror == "html-page":
            return b"<html><body>404 Not Found</body></html>"
        if first_mirror == "invalid-gzip":
            return INVALID_GZIP
        if first_mirror == "truncated-gzip":
            return good[: len(good) // 2]
        if first_mirror == "wrong-content":
            return gzip.compress(b"\x00\x00\x08\x03" + bytes(100))
        raise urllib.error.URLError("mirror down")

    X, y = load_mnist("test", fetch=fetch)
    np.testing.assert_array_equal(y, fake.expected("test")[1])
    np.testing.assert_allclose(X, fake.expected("test")[0], atol=1e-7)
    assert urls == [f"{mirror}{stem}.gz" for stem in STEMS["test"] for mirror in MNIST_MIRRORS[:2]]
    # The cache holds exactly the good files, complete, and no temporary files.
    assert files_in(cache) == sorted(f"{stem}.gz" for stem in STEMS["test"])
    for stem in STEMS["test"]:
        assert (cache / f"{stem}.gz").read_bytes() == fake.gz[stem]
    # A second load is served from the cache.
    X2, y2 = load_mnist("test", fetch=no_fetch)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_download_goes_to_the_cache_even_with_data_home(tmp_path, fake, cache):
    X, _ = load_mnist("test", data_home=tmp_path / "empty", fetch=fake.mirror)
    assert X.shape == (20, 784)
    assert files_in(cache) == sorted(f"{stem}.gz" for stem in STEMS["test"])
    assert not (tmp_path / "empty").exists()


def test_download_writes_the_cache_atomically(fake, cache, monkeypatch):
    """If the final rename fails, neither a partial file nor a temporary file remains."""

    def failing_replace(src, dst):
        assert Path(src).parent == Path(dst).parent == cache  # temp file beside the target
        assert Path(src).read_bytes() == fake.gz[Path(dst).name.removesuffix(".gz")]
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        load_mnist("test", fetch=fake.mirror)
    assert files_in(cache) == []


def test_no_download_when_files_are_present(tmp_path, fake):
    calls = []
    load_mnist("test", data_home=fake.write(tmp_path / "d"), fetch=calls.append)
    assert calls == []


# -- the real MNIST test split -------------------------------------------------------------------
def test_real_mnist_test_split(monkeypatch):
    if not REAL_MNIST.is_dir():
        pytest.skip(f"real MNIST not present at {REAL_MNIST}")
    monkeypatch.setenv("NEUROSIM_DATA", str(REAL_MNIST))
    X, y = load_mnist("test", fetch=no_fetch)
    assert X.shape == (10000, 784)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y, minlength=10).tolist() == REAL_TEST_LABEL_COUNTS
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


# -- stratified_subset -------------------------------------------------------------------------
@pytest.fixture
def unbalanced():
    """60 examples of 3 classes (10, 20, 30); column 0 holds each row's index."""
    y = np.repeat([0, 1, 2], [10, 20, 30])
    X = np.column_stack([np.arange(60), np.zeros(60)]).astype(np.float64)
    return X, y


def check_consistent(X_sub, y_sub, y):
    rows = X_sub[:, 0].astype(int)
    assert len(np.unique(rows)) == len(rows), "an example was drawn twice"
    np.testing.assert_array_equal(y[rows], y_sub)  # each row kept its own label


@pytest.mark.parametrize("n", [1, 5, 10])
def test_subset_n_per_class(unbalanced, n):
    X, y = unbalanced
    X_sub, y_sub = stratified_subset(X, y, n_per_class=n, random_state=0)
    assert Counter(y_sub.tolist()) == {0: n, 1: n, 2: n}
    assert X_sub.shape == (3 * n, 2)
    check_consistent(X_sub, y_sub, y)


@pytest.mark.parametrize(("n_total", "counts"), [(9, [3, 3, 3]), (10, [3, 3, 4]), (2, [0, 1, 1])])
def test_subset_n_total(unbalanced, n_total, counts):
    X, y = unbalanced
    X_sub, y_sub = stratified_subset(X, y, n_total=n_total, random_state=0)
    assert len(y_sub) == n_total
    assert sorted(np.bincount(y_sub, minlength=3).tolist()) == counts
    check_consistent(X_sub, y_sub, y)


def test_subset_remainder_goes_to_random_classes(unbalanced):
    X, y = unbalanced
    extra = set()
    for seed in range(20):
        _, y_sub = stratified_subset(X, y, n_total=10, random_state=seed)
        extra.add(int(np.argmax(np.bincount(y_sub, minlength=3))))
    assert len(extra) > 1


def test_subset_is_shuffled(unbalanced):
    X, y = unbalanced
    _, y_sub = stratified_subset(X, y, n_per_class=10, random_state=0)
    assert np.any(np.diff(y_sub) < 0)


def test_subset_is_reproducible(unbalanced):
    X, y = unbalanced
    a = stratified_subset(X, y, n_per_class=5, random_state=42)
    b = stratified_subset(X, y, n_per_class=5, random_state=42)
    c = stratified_subset(X, y, n_per_class=5, random_state=43)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    d = stratified_subset(X, y, n_per_class=5, random_state=np.random.RandomState(42))
    np.testing.assert_array_equal(a[0], d[0])


def test_subset_string_labels_and_list_y(unbalanced):
    X, y = unbalanced
    names = np.array(["cat", "dog", "eel"])[y]
    X_sub, y_sub = stratified_subset(X, names.tolist(), n_per_class=4, random_state=0)
    assert Counter(y_sub.tolist()) == {"cat": 4, "dog": 4, "eel": 4}
    np.testing.assert_array_equal(names[X_sub[:, 0].astype(int)], y_sub)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one"),
        ({"n_per_class": 2, "n_total": 6}, "exactly one"),
        ({"n_per_class": 11}, "too few"),
        ({"n_total": 40}, "too few"),  # 13 or 14 per class, class 0 has only 10
        ({"n_per_class": 0}, "positive"),
        ({"n_per_class": -1}, "positive"),
        ({"n_total": 0}, "n_total"),
        ({"n_total": 61}, "n_total"),
    ],
)
def test_subset_errors(unbalanced, kwargs, match):
    X, y = unbalanced
    with pytest.raises(ValueError, match=match):
        stratified_subset(X, y, random_state=0, **kwargs)


def test_subset_length_mismatch(unbalanced):
    X, y = unbalanced
    with pytest.raises(ValueError, match="59 labels"):
        stratified_subset(X, y[:-1], n_per_class=1)


# -- load_digits_784 ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_all():
    return load_digits_784("all")


def rows(X):
    return Counter(row.tobytes() for row in X)


def test_digits_all(digits_all):
    X, y = digits_all
    assert X.shape == (1797, 784)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and 0.9 < X.max() <= 1.0
    assert sorted(np.unique(y).tolist()) == list(range(10))
    frame = X.reshape(-1, 28, 28)
    border = np.ones((28, 28), bool)
    border[4:24, 4:24] = False
    assert np.all(frame[:, border] == 0)  # the 4-pixel blank border (20x20 box, as in MNIST)


def test_digits_train_test_partition_the_data(digits_all):
    X_all, y_all = digits_all
    X_train, y_train = load_digits_784("train")
    X_test, y_test = load_digits_784("test")
    assert X_train.shape[1] == X_test.shape[1] == 784
    assert len(X_train) + len(X_test) == len(X_all)
    assert len(X_test) == pytest.approx(0.25 * len(X_all), abs=1)
    assert rows(X_train) + rows(X_test) == rows(X_all)  # disjoint, together everything
    assert Counter(y_train.tolist()) + Counter(y_test.tolist()) == Counter(y_all.tolist())
    for X_part in (X_train, X_test):
        assert X_part.dtype == np.float32 and 0 <= X_part.min() and X_part.max() <= 1
    all_counts = np.bincount(y_all, minlength=10)
    test_counts = np.bincount(y_test, minlength=10)
    assert np.all(np.abs(test_counts - 0.25 * all_counts) <= 1)  # stratified


def test_digits_split_is_seeded():
    a, _ = load_digits_784("test", random_state=0, test_fraction=0.2)
    b, _ = load_digits_784("test", random_state=0, test_fraction=0.2)
    c, _ = load_digits_784("test", random_state=1, test_fraction=0.2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len(a) == pytest.approx(0.2 * 1797, abs=1)


@pytest.mark.parametrize("split", ["validation", "TEST", None])
def test_digits_split_is_validated(split):
    with pytest.raises(ValueError, match="split"):
        load_digits_784(split)
