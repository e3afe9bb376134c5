"""One reader for the text files people bring: UTF-8, UTF-8 with BOM, and Windows-1252 with a notice."""

from __future__ import annotations

import pytest

from botkit.errors import KnowledgeError
from botkit.textfile import CP1252, UTF8, decode_text, read_text_file

TEXT = "Frage;Antwort\nWie hoch ist die Gebühr?;Zwölf Euro – ab sofort.\n"


@pytest.mark.parametrize("data", [TEXT.encode("utf-8"), b"\xef\xbb\xbf" + TEXT.encode("utf-8")], ids=["utf-8", "utf-8 with BOM"])
def test_utf8_with_or_without_bom_is_read_without_notice(tmp_path, data):
    path = tmp_path / "faq.csv"
    path.write_bytes(data)
    read = read_text_file(path)
    assert (read.text, read.encoding, read.notice) == (TEXT, UTF8, None)


def test_windows_1252_is_read_with_a_notice_naming_file_and_line():
    read = decode_text(TEXT.encode("cp1252"), "chat.csv")
    assert read.text == TEXT and read.encoding == CP1252
    assert read.notice is not None and read.notice.startswith("chat.csv is not UTF-8 (first at line 2)")
    assert "Windows-1252" in read.notice


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a,b\nx,\x81\x8d\n", "chat.csv:2: is neither UTF-8 nor Windows-1252 text"),
        ("a,b\n".encode("utf-16-le"), "chat.csv:1: holds NUL bytes"),
    ],
    ids=["undefined in cp1252", "utf-16"],
)
def test_a_file_that_is_no_text_is_refused_with_its_line(data, message):
    with pytest.raises(KnowledgeError) as exc:
        decode_text(data, "chat.csv")
    (problem,) = exc.value.problems
    assert str(problem).startswith(message)


def test_a_file_above_the_cap_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 101)
    with pytest.raises(KnowledgeError, match="more than the limit of 100"):
        read_text_file(path, max_bytes=100)
