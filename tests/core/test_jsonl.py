from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from franc.errors import InputError
from franc.jsonl import check_output, read_jsonl, write_jsonl, write_text_atomic


def test_round_trip_plain_and_gzip(tmp_path: Path) -> None:
    rows = [{"a": 1}, {"b": "é"}]
    for name in ("x.jsonl", "x.jsonl.gz"):
        assert write_jsonl(tmp_path / name, rows) == 2
        assert [row for _, row in read_jsonl(tmp_path / name)] == rows


def test_blank_lines_are_skipped_and_numbers_kept(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n')
    assert list(read_jsonl(path)) == [(1, {"a": 1}), (3, {"a": 2})]


@pytest.mark.parametrize(("content", "message"), [
    (b'{"a": 1}\n{"a": \n', r"x\.jsonl:2: malformed JSON"),
    (b'{"a": 1}\n[1, 2]\n', r"x\.jsonl:2: expected a JSON object, got list"),
    (b'{"a": "\xff\xfe"}\n', r"x\.jsonl:1: not UTF-8"),
    (b"\x00\x01\x02binary\n", r"x\.jsonl:1: malformed JSON"),
])
def test_bad_lines_name_file_and_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        list(read_jsonl(path))


def test_huge_line_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("franc.jsonl.MAX_LINE_BYTES", 100)
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": "' + "x" * 500 + '"}\n')
    with pytest.raises(InputError, match="line longer than 100 bytes"):
        list(read_jsonl(path))


def test_gzip_detected_by_content(tmp_path: Path) -> None:
    path = tmp_path / "no_suffix"
    with gzip.open(path, "wt") as handle:
        handle.write('{"a": 1}\n')
    assert [row for _, row in read_jsonl(path)] == [{"a": 1}]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(read_jsonl(tmp_path / "nope.jsonl"))


def test_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write('{"a": 1}\n' * 1000)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(InputError, match="cannot read"):
        list(read_jsonl(path))


def test_write_jsonl_is_atomic_an_interrupted_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [{"old": 1}])

    def rows() -> Iterator[dict[str, int]]:
        yield {"new": 1}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_jsonl(path, rows())
    assert [row for _, row in read_jsonl(path)] == [{"old": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary left


def test_write_text_atomic_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "report.md"
    write_text_atomic(path, "one")
    write_text_atomic(path, "two")
    assert path.read_text() == "two"


def test_output_naming_an_input_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "suggestions.jsonl"
    source.write_text("{}\n")
    with pytest.raises(InputError, match="overwrite the input"):
        check_output(source, [source])
    with pytest.raises(InputError, match="overwrite the input"):
        check_output(tmp_path / "." / "suggestions.jsonl", [str(source)])
    check_output(tmp_path / "other.jsonl", [source])  # another file is fine


def test_unwritable_output_is_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be written"):
        check_output("/proc/version")
    with pytest.raises(InputError, match="directory"):
        check_output(tmp_path)
