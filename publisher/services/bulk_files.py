"""A spreadsheet of planned posts (CSV or XLSX) read into plain rows of text, and the template
an office fills in.

Only values are read, never evaluated: a cell that looks like a formula (``=HYPERLINK(…)``,
``+62…``, ``@dinsos``) is its text, and an XLSX formula cell is taken as the formula's text,
not its result (nothing here runs it, and a cached result may be missing or stale). Every
limit is checked while reading, so an oversized file or a zip bomb stops before it costs
memory: the file's bytes, the XLSX's unpacked size, the rows, the columns and the text.
What the rows *mean* (channels, times, campaigns) is ``bulk_import``'s business.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from publisher.services.errors import Invalid

#: Largest file accepted (a month of posts is a few dozen kilobytes; pictures pasted into a
#: workbook are what make one big).
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Most posts one file may plan; more is split into several files.
MAX_ROWS = 500
#: Columns read per row (the template has six); cells further right are not read.
MAX_COLUMNS = 30
#: The last sheet row looked at: empty rows are skipped, but not a million of them.
MAX_SHEET_ROWS = 5000
#: Most text (UTF-8 bytes) all the kept cells may hold together: bounds the preview's signed
#: copy of the rows and the work of checking them.
MAX_TEXT_BYTES = 2 * 1024 * 1024
#: What the parts of an XLSX may unpack to together (its XML, its pictures).
MAX_UNPACKED_BYTES = 40 * 1024 * 1024

#: Column keys and the headers that name them: Indonesian first, English accepted.
COLUMNS: dict[str, tuple[str, ...]] = {
    "body": ("teks", "text", "isi"),
    "channels": ("akun", "channels", "channel"),
    "time": ("waktu", "time", "jadwal"),
    "campaign": ("kampanye", "campaign"),
    "media": ("media",),
    "link": ("tautan", "link"),
}
REQUIRED = ("body", "channels")
_HEADER = {alias: key for key, aliases in COLUMNS.items() for alias in aliases}


class FileTooLarge(Invalid):
    """The file, or what it unpacks to, is over a limit: 413 like any oversized body."""

    status = 413


@dataclass(frozen=True)
class SourceRow:
    """One planned post as written: ``number`` is the spreadsheet's row number (the header is
    row 1), the one the operator sees in Excel."""

    number: int
    cells: dict[str, str]
    #: Column keys whose XLSX cell held a formula (imported as its text).
    formulas: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceFile:
    name: str
    rows: tuple[SourceRow, ...]
    #: Headers that name no column Warta knows, as written (their cells are not read).
    unknown_columns: tuple[str, ...] = ()
    columns: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """Plain values, for the preview's signed copy."""
        return {"name": self.name, "unknown": list(self.unknown_columns),
                "columns": list(self.columns),
                "rows": [[r.number, r.cells, list(r.formulas)] for r in self.rows]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceFile:
        return cls(name=str(data["name"]), unknown_columns=tuple(data["unknown"]),
                   columns=tuple(data["columns"]),
                   rows=tuple(SourceRow(int(n), {str(k): str(v) for k, v in cells.items()},
                                        tuple(f)) for n, cells, f in data["rows"]))


def _bad(message: str, en: str, code: str = "bad_file") -> Invalid:
    return Invalid(message, en, fields={"file": message}, code=code)


def read_spreadsheet(data: bytes, filename: str) -> SourceFile:
    """The rows of a CSV or XLSX file (recognised by its bytes, not its name)."""
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLarge(
            f"Berkas terlalu besar (paling besar {MAX_FILE_BYTES // (1024 * 1024)} MB). "
            "Bagi menjadi beberapa berkas, atau hapus gambar yang ditempel di lembar kerja.",
            f"The file is too large (at most {MAX_FILE_BYTES // (1024 * 1024)} MB). Split it "
            "into several files, or remove pictures pasted into the sheet.", code="too_large")
    if not data.strip():
        raise _bad("Berkas kosong.", "The file is empty.", code="empty")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _bad("Berkas .xls lama tidak dapat dibaca. Simpan sebagai .xlsx atau CSV UTF-8.",
                   "Old .xls files cannot be read. Save it as .xlsx or as CSV UTF-8.")
    grid = _xlsx_grid(data) if data.startswith(b"PK\x03\x04") else _csv_grid(data)
    return _rows_of(grid, filename)


# -- reading the grid -------------------------------------------------------------------------

#: A cell as read: its text, and whether it held a formula.
Cell = tuple[str, bool]


def _clean(text: str) -> str:
    # PostgreSQL cannot store NUL; nobody means one.
    return text.replace("\x00", "")


def _csv_grid(data: bytes) -> Iterator[list[Cell]]:
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte order mark
    except UnicodeDecodeError:
        raise _bad("Berkas bukan CSV UTF-8. Di Excel, pilih Simpan Sebagai → \"CSV UTF-8 "
                   "(Dipisahkan koma)\", atau unggah berkas .xlsx.",
                   "The file is not CSV in UTF-8. In Excel, choose Save As → \"CSV UTF-8 "
                   "(Comma delimited)\", or upload the .xlsx file.", code="encoding") from None
    first = text.split("\n", 1)[0]
    # Excel under Indonesian regional settings separates with ";" (the comma is the decimal
    # mark); elsewhere with ",". The header line says which: its names hold neither.
    delimiter = max((";", ",", "\t"), key=first.count) if any(
        c in first for c in ";,\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            yield [(_clean(v), False) for v in record[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise _bad(f"Berkas CSV tidak dapat dibaca (baris {reader.line_num}): {exc}.",
                   f"The CSV file cannot be read (line {reader.line_num}): {exc}.") from None


def _xlsx_grid(data: bytes) -> Iterator[list[Cell]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts = z.infolist()
    except zipfile.BadZipFile:
        raise _bad("Berkas .xlsx rusak atau bukan lembar kerja.",
                   "The .xlsx file is damaged or is not a workbook.") from None
    # zipfile never unpacks more than a part's declared size, so the sum bounds the work.
    if len(parts) > 1000 or sum(p.file_size for p in parts) > MAX_UNPACKED_BYTES:
        raise FileTooLarge("Isi berkas .xlsx terlalu besar.",
                           "The .xlsx file unpacks to too much data.", code="too_large")
    try:
        # data_only=False: a formula cell reads as its text ("=A2+1"), never as a result
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise _bad("Berkas .xlsx rusak atau bukan lembar kerja.",
                   "The .xlsx file is damaged or is not a workbook.") from None
    try:
        if not wb.worksheets:
            return
        sheet = wb.worksheets[0]
        for index, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS), start=1):
            if index > MAX_SHEET_ROWS:
                raise _bad(f"Lembar kerja berisi baris setelah baris {MAX_SHEET_ROWS}. Letakkan "
                           "unggahan di baris-baris awal (hapus baris kosong yang panjang).",
                           f"The sheet has rows after row {MAX_SHEET_ROWS}. Keep the posts in "
                           "its first rows (delete long runs of empty rows).", code="too_many_rows")
            yield [_xlsx_cell(c) for c in row]
    finally:
        wb.close()


def _xlsx_cell(cell: Any) -> Cell:
    value = getattr(cell, "value", None)
    formula = getattr(cell, "data_type", None) == "f"
    if value is None:
        return "", False
    if isinstance(value, datetime):  # a date cell: its wall-clock time, written the ISO way
        return (f"{value:%Y-%m-%d %H:%M:%S}" if value.second else f"{value:%Y-%m-%d %H:%M}"), \
            formula
    if isinstance(value, date):
        return value.isoformat(), formula
    if isinstance(value, time):
        return f"{value:%H:%M}", formula
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), formula
    return _clean(str(value)), formula


# -- from the grid to rows --------------------------------------------------------------------

def header_key(text: str) -> str | None:
    """The column a header names: case, spaces and a note in brackets ("Waktu (WIB)") do not
    matter."""
    name = re.sub(r"\(.*?\)", "", text.replace("\ufeff", "")).strip().casefold()
    return _HEADER.get(" ".join(name.split()))


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _rows_of(grid: Iterable[list[Cell]], filename: str) -> SourceFile:
    header: list[str | None] | None = None
    titled: list[bool] = []  # whether each header cell has a text
    unknown: list[str] = []
    rows: list[SourceRow] = []
    text_bytes = 0
    for number, cells in enumerate(grid, start=1):
        if not any(text.strip() for text, _formula in cells):
            continue
        if header is None:
            header, unknown = _header(cells)
            titled = [bool(text.strip()) for text, _formula in cells]
            continue
        values: dict[str, str] = {}
        formulas: list[str] = []
        for index, (text, formula) in enumerate(cells):
            key = header[index] if index < len(header) else None
            if key is None:
                untitled = index >= len(titled) or not titled[index]
                if text.strip() and untitled and (label := _column_letter(index)) not in unknown:
                    unknown.append(label)  # data under no header at all: named by its letter
                continue
            values[key] = text
            text_bytes += len(text.encode())
            if formula:
                formulas.append(key)
        if not any(v.strip() for v in values.values()):
            continue  # only unknown columns filled: nothing Warta would read
        if len(rows) >= MAX_ROWS:
            raise Invalid(f"Berkas berisi lebih dari {MAX_ROWS} unggahan. Bagi menjadi beberapa "
                          "berkas.",
                          f"The file holds more than {MAX_ROWS} posts. Split it into several "
                          "files.", fields={"file": "too_many_rows"}, code="too_many_rows")
        if text_bytes > MAX_TEXT_BYTES:
            raise FileTooLarge("Teks dalam berkas terlalu banyak. Bagi menjadi beberapa berkas.",
                               "The file holds too much text. Split it into several files.",
                               code="too_large")
        rows.append(SourceRow(number, values, tuple(formulas)))
    if header is None:
        raise _bad("Berkas tidak berisi baris judul kolom (teks, akun, waktu, …).",
                   "The file has no header row (teks, akun, waktu, …).", code="no_header")
    columns = tuple(k for k in header if k is not None)
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in columns]
    if missing:
        names = ", ".join(missing)
        raise _bad(f"Kolom wajib tidak ada: {names}. Unduh templat untuk melihat judul kolomnya.",
                   f"Required columns are missing: {names}. Download the template to see the "
                   "headers.", code="missing_columns")
    # the name is the browser's to choose: control characters are dropped, as for uploads
    name = "".join(c for c in filename if c.isprintable())[:200]
    return SourceFile(name=name, rows=tuple(rows), unknown_columns=tuple(unknown),
                      columns=columns)


def _header(cells: list[Cell]) -> tuple[list[str | None], list[str]]:
    """The column key under each header cell (``None``: not a column Warta reads), and the
    unknown headers as written."""
    keys: list[str | None] = []
    unknown: list[str] = []
    for text, _formula in cells:
        key = header_key(text)
        if key is not None and key in keys:
            raise _bad(f"Kolom '{text.strip()}' muncul dua kali.",
                       f"The column '{text.strip()}' appears twice.", code="duplicate_column")
        if key is None and text.strip():
            unknown.append(text.strip()[:60])
        keys.append(key)
    return keys, unknown


# -- the template -----------------------------------------------------------------------------

def template_csv(header: list[str], example: list[Any]) -> bytes:
    """The template as Excel opens it under Indonesian regional settings: UTF-8 with a byte
    order mark, ``;`` between fields, times as "2026-06-11 09:00"."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, delimiter=";")
    w.writerow(header)
    w.writerow([f"{v:%Y-%m-%d %H:%M}" if isinstance(v, datetime) else v for v in example])
    return buf.getvalue().encode()


def template_xlsx(header: list[str], example: list[Any], sheet: str) -> bytes:
    """The template as a workbook: text as text cells (never a formula), the time as a date
    cell in the unit's wall-clock time."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet[:31])
    for letter, width in zip("ABCDEF", (60, 30, 18, 24, 24, 30), strict=False):
        ws.column_dimensions[letter].width = width

    def row(values: list[Any]) -> list[Any]:
        out = []
        for v in values:
            c = WriteOnlyCell(ws, value=v)
            if isinstance(v, datetime):
                c.number_format = "yyyy-mm-dd hh:mm"
            else:
                c.data_type = "s"  # openpyxl would store "=…" as a formula
            out.append(c)
        return out

    ws.append(row(header))
    ws.append(row(example))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
