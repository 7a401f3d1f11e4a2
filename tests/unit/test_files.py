"""RenderedFile provider logic on a real filesystem (no engine): atomic writes, mode, drift."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from infra.files import RenderedFileProvider, sha256_text, write_atomic


def test_write_atomic_mode_and_no_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.env"
    old_umask = os.umask(0)
    try:
        write_atomic(str(target), "X=1\n")
    finally:
        os.umask(old_umask)
    assert target.read_text() == "X=1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["b.env"]


def test_write_atomic_readers_never_see_partial_content(tmp_path: Path) -> None:
    target = tmp_path / "f.env"
    big_a, big_b = "A" * 200_000, "B" * 300_000
    write_atomic(str(target), big_a)
    seen: set[str] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add(target.read_text())

    t = threading.Thread(target=reader)
    t.start()
    for i in range(30):
        write_atomic(str(target), big_b if i % 2 == 0 else big_a)
    stop.set()
    t.join()
    assert seen <= {big_a, big_b}


def test_provider_lifecycle_and_drift(tmp_path: Path) -> None:
    p = RenderedFileProvider()
    path = str(tmp_path / "deploy" / "x.env")
    checked = p.check({}, {"path": path, "content": "A=1\n", "mode": 0o600})
    assert checked.failures == []
    created = p.create(checked.inputs)
    assert created.id == path and created.outs is not None
    assert created.outs["sha256"] == sha256_text("A=1\n")

    # No change → no diff; content change → update; path change → replace.
    assert p.diff(path, created.outs, checked.inputs).changes is False
    assert p.diff(path, created.outs, {**checked.inputs, "content": "A=2\n"}).changes is True
    moved = p.diff(path, created.outs, {**checked.inputs, "path": str(tmp_path / "deploy" / "y.env")})
    assert moved.changes is True and moved.replaces == ["path"]

    Path(path).write_text("HAND=1\n")
    read = p.read(path, created.outs)
    assert read.outs is not None and read.outs["content"] == "HAND=1\n"
    assert p.diff(path, read.outs, checked.inputs).changes is True

    os.unlink(path)
    assert not p.read(path, created.outs).id

    p.delete(path, created.outs)  # already gone: no error


def test_delete_removes_the_folder_it_leaves_empty_and_no_other(tmp_path: Path) -> None:
    """`pulumi destroy` leaves no empty deploy/<stack>/ behind (a new user's trial); a folder that still holds
    anything (another rendered file, a file of the user's) stays, and so does the folder above it."""
    p = RenderedFileProvider()
    stack = tmp_path / "deploy" / "prod"
    created = {name: p.create({"path": str(stack / name), "content": f"{name}\n"}) for name in ("a.env", "b.env")}
    kept = tmp_path / "deploy" / "kept"
    mine = p.create({"path": str(kept / "c.env"), "content": "C=1\n"})
    (kept / "notes.txt").write_text("the user's\n")

    p.delete(created["a.env"].id, created["a.env"].outs or {})
    assert sorted(f.name for f in stack.iterdir()) == ["b.env"]  # the other file keeps its folder
    p.delete(created["b.env"].id, created["b.env"].outs or {})
    assert not stack.exists()
    p.delete(mine.id, mine.outs or {})
    assert sorted(f.name for f in kept.iterdir()) == ["notes.txt"]
    assert sorted(f.name for f in (tmp_path / "deploy").iterdir()) == ["kept"]
    p.delete(created["b.env"].id, created["b.env"].outs or {})  # a second delete (file and folder gone): no error


def test_check_failures_name_the_field(tmp_path: Path) -> None:
    p = RenderedFileProvider()
    result = p.check({}, {"path": "", "content": 3, "mode": 0o1777})
    props = {f.property: f.reason for f in result.failures}
    assert set(props) == {"path", "content", "mode"}
    assert "non-empty" in props["path"] and "0o777" in props["mode"]
    assert p.check({}, {"path": str(tmp_path), "content": ""}).failures[0].property == "path"
