import pytest

from tradeie.errors import TradeieError
from tradeie.io.atomic import OUTPUT_MARKER, atomic_directory, write_text_atomic


def test_atomic_directory_replaces_its_own_output(tmp_path):
    out = tmp_path / "out"
    with atomic_directory(out) as tmp:
        (tmp / "a.txt").write_text("1")
    assert (out / OUTPUT_MARKER).exists()
    with atomic_directory(out) as tmp:
        (tmp / "b.txt").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [OUTPUT_MARKER, "b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_directory_leaves_old_output_on_error(tmp_path):
    out = tmp_path / "out"
    with atomic_directory(out) as tmp:
        (tmp / "a.txt").write_text("1")
    with pytest.raises(RuntimeError):
        with atomic_directory(out) as tmp:
            (tmp / "partial.txt").write_text("x")
            raise RuntimeError("boom")
    assert (out / "a.txt").read_text() == "1" and not (out / "partial.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_directory_never_replaces_a_users_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    with pytest.raises(TradeieError, match="holds files tradeie did not write"):
        with atomic_directory(tmp_path / "mine"):
            pass
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"
    (tmp_path / "file").write_text("x")
    with pytest.raises(TradeieError, match="not a folder"):
        with atomic_directory(tmp_path / "file"):
            pass


def test_write_text_atomic(tmp_path):
    path = write_text_atomic(tmp_path / "sub" / "f.txt", "héllo")
    assert path.read_text(encoding="utf-8") == "héllo"
    assert [p.name for p in path.parent.iterdir()] == ["f.txt"]
