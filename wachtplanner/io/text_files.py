"""Read a text input file defensively: bounded size, binary files named, the encodings Excel writes.

Coordinators save files from Excel and LibreOffice: "CSV UTF-8" starts with a byte-order mark,
"Unicode text" is UTF-16, and plain "CSV" on a Belgian Windows machine is Windows-1252. A
database, a workbook or a PDF given where text is expected is named as what it is.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from wachtplanner.exceptions import InputFileError, Issue

_MAGIC = (
    (b"SQLite format 3\x00", "an SQLite database (a .db store?)"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook or .zip?)"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.xls or .doc)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
)


def _size_text(num_bytes: int) -> str:
    return f"{num_bytes / 1024 / 1024:.1f} MB" if num_bytes >= 1024 * 1024 else f"{num_bytes} bytes"


def describe_binary(head: bytes) -> str | None:
    """Return what a file is when its first bytes say it is not text, else None."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    if b"\x00" in head:
        return "a binary file"
    return None


def read_text_file(
    path: Path,
    max_bytes: int,
    error: type[InputFileError],
    *,
    what: str,
    legacy_encoding: bool = False,
) -> str:
    """Return a file's text, or raise ``error`` with one located issue saying why it is unusable.

    Parameters
    ----------
    max_bytes
        Larger files are refused before they are read.
    what
        The kind of file expected, for messages ("a scenario", "a roster").
    legacy_encoding
        Accept Windows-1252 where the bytes are not UTF-8 (CSV from Excel); otherwise such bytes
        are reported with their line and column.
    """
    where = str(path)
    try:
        if path.is_dir():
            raise error([Issue(where, f"is a folder; expected {what} file.")])
        size = path.stat().st_size
        if size > max_bytes:
            raise error(
                [
                    Issue(
                        where,
                        f"is {_size_text(size)}; expected {what} file of at most "
                        f"{_size_text(max_bytes)}.",
                    )
                ]
            )
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise error([Issue(where, "file not found.")]) from None
    except OSError as exc:
        raise error([Issue(where, f"cannot be read ({exc.strerror}).")]) from None
    if len(raw) > max_bytes:
        raise error(
            [Issue(where, f"is larger than {_size_text(max_bytes)}; expected {what} file.")]
        )
    binary = describe_binary(raw[:4096])
    if binary is not None:
        raise error([Issue(where, f"is {binary}, not text; expected {what} file.")])
    if raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        if legacy_encoding and encoding == "utf-8":
            return raw.decode("cp1252", errors="replace")
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(
            [
                Issue(
                    f"{where}:{line}:{column}",
                    f"byte 0x{raw[exc.start]:02x} is not {encoding.upper()} text; save the file "
                    "as UTF-8.",
                )
            ]
        ) from None
    if "\x00" in text:
        raise error([Issue(where, f"holds NUL characters; expected {what} file.")])
    return text
