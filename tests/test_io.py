"""Files twotier writes: whole or not at all, text encoded a chunk at a time; or written
behind, by the background thread, inside a folder built whole."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import twotier.io as io
from twotier.io import write_text_atomic, writes_behind


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.text(max_size=40), max_size=6), chunk=st.integers(1, 7))
def test_text_written_in_parts_and_chunks_is_the_joined_text_in_utf8(
    parts, chunk, tmp_path_factory
):
    path = tmp_path_factory.mktemp("io") / "out.txt"
    original = io.TEXT_CHUNK
    io.TEXT_CHUNK = chunk  # chunks that split the parts anywhere, multibyte text too
    try:
        write_text_atomic(path, parts)
    finally:
        io.TEXT_CHUNK = original
    assert path.read_bytes() == "".join(parts).encode("utf-8")


def test_parts_given_as_bytes_are_written_as_they_are_between_the_text(tmp_path):
    parts = ["<p>≥ 中文</p>\n", "µ 一 \ufffd".encode(), "<script>", b"", "→ end\n"]
    write_text_atomic(tmp_path / "page.html", parts)
    want = "<p>≥ 中文</p>\nµ 一 \ufffd<script>→ end\n".encode()
    assert (tmp_path / "page.html").read_bytes() == want


def test_one_string_is_written_as_it_is(tmp_path):
    text = "date,returns\n2024-01-02,0.01\n≥ 中文\n"
    write_text_atomic(tmp_path / "a.csv", text)
    with writes_behind() as behind:
        behind.write(tmp_path / "b.csv", text)
    assert (tmp_path / "a.csv").read_bytes() == text.encode("utf-8")
    assert (tmp_path / "b.csv").read_bytes() == text.encode("utf-8")


def test_a_failure_while_writing_leaves_the_earlier_file_untouched(tmp_path):
    path = tmp_path / "report.html"
    path.write_text("the earlier report", encoding="utf-8")

    def parts():
        yield "<html>"
        raise RuntimeError("the report failed half way")

    with pytest.raises(RuntimeError, match="half way"):
        write_text_atomic(path, parts())
    assert path.read_text(encoding="utf-8") == "the earlier report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary left


@settings(max_examples=40, deadline=None)
@given(
    parts=st.lists(st.one_of(st.text(max_size=40), st.binary(max_size=20)), max_size=6),
    chunk=st.integers(1, 7),
)
def test_writes_behind_write_the_parts_in_order_as_write_text_atomic_does(
    parts, chunk, tmp_path_factory
):
    folder = tmp_path_factory.mktemp("behind")
    original = io.TEXT_CHUNK
    io.TEXT_CHUNK = chunk
    try:
        with writes_behind() as behind:
            behind.write(folder / "behind.txt", parts)
        write_text_atomic(folder / "atomic.txt", parts)
    finally:
        io.TEXT_CHUNK = original
    want = b"".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in parts)
    assert (folder / "behind.txt").read_bytes() == want
    assert (folder / "atomic.txt").read_bytes() == want


def test_writes_behind_take_any_buffer_such_as_pyarrows(tmp_path):
    import pyarrow as pa

    with writes_behind() as behind:
        behind.write(tmp_path / "a.bin", [pa.py_buffer(b"PAR1"), memoryview(b"\x00\xff"), "é"])
    assert (tmp_path / "a.bin").read_bytes() == b"PAR1\x00\xff" + "é".encode()


def test_every_file_is_written_and_closed_when_the_block_ends(tmp_path):
    with writes_behind() as behind:
        for n in range(20):
            behind.write(tmp_path / f"{n}.txt", [f"file {n}\n" * 1000])
    for n in range(20):  # read at once, without waiting: the block waited
        assert (tmp_path / f"{n}.txt").read_text() == f"file {n}\n" * 1000


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_write_that_fails_on_the_background_thread_raises_when_the_block_ends(tmp_path):
    with pytest.raises(OSError) as failed, writes_behind() as behind:
        behind.write(Path("/dev/full"), ["x" * 100_000])
        behind.write(tmp_path / "after.txt", ["written all the same"])
    assert failed.value.errno == errno.ENOSPC
    assert (tmp_path / "after.txt").read_text() == "written all the same"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_the_blocks_own_error_goes_on_once_the_writes_given_are_done(tmp_path):
    with pytest.raises(RuntimeError, match="report failed"), writes_behind() as behind:
        behind.write(Path("/dev/full"), ["x" * 100_000])  # fails too: says nothing more
        behind.write(tmp_path / "data.csv", ["a,b\n" * 50_000])
        raise RuntimeError("the report failed")
    assert (tmp_path / "data.csv").read_text() == "a,b\n" * 50_000  # done before it went on


def test_a_text_part_that_fails_half_way_still_closes_the_file(tmp_path):
    def parts():
        yield "<html>"
        raise RuntimeError("the report failed half way")

    with pytest.raises(RuntimeError, match="half way"), writes_behind() as behind:
        behind.write(tmp_path / "report.html", parts())
    assert (tmp_path / "report.html").read_bytes() == b"<html>"
