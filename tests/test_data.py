import gzip

import numpy as np
import pytest
from conftest import cli, records, write_idx, write_idx_dataset

from ablation.data import DataError, Mnist, Mnist5k, read_idx


@pytest.mark.parametrize("gz", [True, False])
def test_idx_reader_round_trips(tmp_path, gz):
    x = np.random.default_rng(0).integers(0, 256, size=(7, 28, 28))
    write_idx(tmp_path / "imgs", x, gz=gz)
    got = read_idx(tmp_path / ("imgs.gz" if gz else "imgs"))
    assert got.shape == (7, 28, 28) and got.dtype == np.uint8
    assert np.array_equal(got, x)


def test_truncated_idx_is_refused_with_the_file_named(tmp_path):
    write_idx(tmp_path / "imgs", np.zeros((5, 28, 28)), gz=False)
    raw = (tmp_path / "imgs").read_bytes()
    (tmp_path / "imgs").write_bytes(raw[:-100])
    with pytest.raises(DataError, match=r"imgs: truncated or corrupt IDX file"):
        read_idx(tmp_path / "imgs")


def test_garbage_is_refused(tmp_path):
    (tmp_path / "a.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot read IDX"):
        read_idx(tmp_path / "a.gz")
    with gzip.open(tmp_path / "b.gz", "wb") as f:
        f.write(b"\x12\x34\x56\x78")
    with pytest.raises(DataError, match="bad magic"):
        read_idx(tmp_path / "b.gz")


def test_idx_folder_loads_a_split(tmp_path):
    write_idx_dataset(tmp_path, n_train=40, n_test=20)
    split = Mnist(root=str(tmp_path)).load()
    assert split.x_train.shape == (40, 784) and split.x_test.shape == (20, 784)
    assert split.x_train.dtype == np.float32 and 0 <= split.x_train.min() and split.x_train.max() <= 1
    assert sorted(np.unique(split.y_test)) == list(range(10))


def test_missing_files_are_named_with_the_way_to_get_them(tmp_path):
    write_idx_dataset(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as e:
        Mnist(root=str(tmp_path)).load()
    assert "t10k-labels-idx1-ubyte.gz" in str(e.value) and "data.download=true" in str(e.value)


def test_mnist5k_split_is_stratified_and_fixed():
    a, b = Mnist5k().load(), Mnist5k().load()
    assert a.x_train.shape == (4000, 784) and a.x_test.shape == (1000, 784)
    assert np.all(np.bincount(a.y_test) == 100)
    assert np.array_equal(a.x_test, b.x_test)


@pytest.mark.slow
def test_a_run_on_idx_files(tmp_path, results):
    write_idx_dataset(tmp_path / "mnist", n_train=200, n_test=60)
    p = cli("data=mnist", f"data.root={tmp_path / 'mnist'}", "train.epochs=3", f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    (rec,) = records(results).values()
    assert rec["status"] == "completed" and rec["factors"]["data"] == "mnist"
    assert rec["metrics"]["n_train_pairs"] == 2 * 10 * (20 - 1)
    assert rec["metrics"]["test_acc"] > 0.8  # ten well-separated templates: easy


@pytest.mark.slow
def test_corrupt_idx_folder_fails_before_training(tmp_path, results):
    write_idx_dataset(tmp_path / "mnist")
    f = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:200])
    p = cli("data=mnist", f"data.root={tmp_path / 'mnist'}", f"results_dir={results}")
    assert p.returncode != 0
    assert "train-images-idx3-ubyte.gz" in p.stderr
    assert not (results / "runs").exists()


def test_download_fetches_verifies_and_never_keeps_partial_files(tmp_path):
    mirror = tmp_path / "mirror"
    write_idx_dataset(mirror, n_train=40, n_test=20)
    target = tmp_path / "data"
    split = Mnist(root=str(target), download=True, mirror=mirror.as_uri()).load()  # file:// — no network
    assert split.x_train.shape == (40, 784)
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in mirror.iterdir())

    broken = tmp_path / "broken"
    write_idx_dataset(broken)
    f = broken / "t10k-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:50])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        Mnist(root=str(tmp_path / "data2"), download=True, mirror=broken.as_uri()).load()
    assert "t10k-images-idx3-ubyte.gz" not in [p.name for p in (tmp_path / "data2").iterdir()]
    assert not [p for p in (tmp_path / "data2").iterdir() if ".part" in p.name]
