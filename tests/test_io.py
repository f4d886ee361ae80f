"""Files twotier writes: whole or not at all, text encoded a chunk at a time."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import twotier.io as io
from twotier.io import write_text_atomic


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
    assert (tmp_path / "a.csv").read_bytes() == text.encode("utf-8")


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
