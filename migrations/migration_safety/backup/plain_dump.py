"""Plain-SQL backups (``MIGRATION_BACKUP_FORMAT=plain``): recognising a ``pg_dump -Fp`` file and
reading its outline.

pg_restore cannot read a plain dump, so what it gives for the custom format — the table of
contents, the schema-only SQL, proof that the file is complete — is read here from the text,
streamed line by line through the caller's descriptor: pg_dump heads every entry with a comment
``-- Name: N; Type: T; Schema: S; Owner: O`` (``-- Data for Name: ...`` for table data), table data
is a ``COPY ... FROM stdin;`` block ended by ``\\.``, and only a dump that ran to its end carries
``-- PostgreSQL database dump complete``. This is a syntax-level read: it proves the file is a
whole pg_dump script, not that every statement will succeed (the restore's transaction does).

The only psql meta-commands pg_dump (15.14+, 16.10+, 17.6+) writes into a single database's plain
dump are ``\\restrict KEY`` in its header and ``\\unrestrict KEY`` after its closing line; the
outline records where they are (``own_meta_commands``), so that the restore can blank them out and
run the rest in psql's restricted mode under a key of its own (restore.apply_in_one_transaction).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

CUSTOM_MAGIC = b"PGDMP"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"          # zstd's frame magic number
PLAIN_HEADER = b"--\n-- PostgreSQL database dump\n"
_COMPLETE = b"-- PostgreSQL database dump complete"
_ENTRY_HEADER = re.compile(rb"^-- (Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: .*$")
# Entries that are data, not schema: what ``pg_dump --schema-only`` leaves out.
_DATA_KINDS = {"TABLE DATA", "SEQUENCE SET", "BLOB", "BLOBS", "LARGE OBJECT"}
_READ_SIZE = 1 << 20
# Session settings pg_dump emits ahead of the entry that needs them (so they belong to the next
# entry, not to the one they follow in the file).
_ENTRY_CONTEXT = (b"SET default_tablespace ", b"SET default_table_access_method ")
_RESTRICT = re.compile(rb"^\\restrict [A-Za-z0-9]+$")
_UNRESTRICT = re.compile(rb"^\\unrestrict [A-Za-z0-9]+$")


class PlainDumpInvalid(ValueError):
    """The file is not a complete plain pg_dump script; the message says what is wrong."""


def archive_format(head: bytes) -> Optional[str]:
    """``custom``, ``custom-zstd`` (a zstd frame: backup_formats) or ``plain`` from the first bytes
    of a backup file; None for anything else."""
    if head.startswith(CUSTOM_MAGIC):
        return "custom"
    if head.startswith(ZSTD_MAGIC):
        return "custom-zstd"
    if head.startswith(PLAIN_HEADER):
        return "plain"
    return None


@dataclass
class PlainEntry:
    kind: str
    schema: str
    name: str
    context: list = field(default_factory=list)        # the _ENTRY_CONTEXT lines emitted for it
    schema_lines: list = field(default_factory=list)   # its SQL, empty for data entries

    def mentions(self, schemas: set) -> bool:
        """In, being or describing one of ``schemas`` (like restore.toc_without_schemas)."""
        return bool(schemas.intersection({self.schema, *self.name.split()}))


@dataclass
class PlainOutline:
    preamble: list          # the SET lines before the first entry
    entries: list           # PlainEntry, in file order
    own_meta_commands: list = field(default_factory=list)   # (offset, length) of its \\restrict, \\unrestrict

    def extensions(self) -> set:
        return {entry.name for entry in self.entries if entry.kind == "EXTENSION"}

    def schema_sql(self, excluded_schemas: Iterable[str]) -> str:
        """What ``pg_dump --schema-only --exclude-schema=...`` of the dumped database printed."""
        excluded = set(excluded_schemas)
        lines = list(self.preamble)
        carried: dict = {}          # settings of left-out entries: pg_dump emits them for the next one
        for entry in self.entries:
            carried.update((line.split("=")[0], line) for line in entry.context)
            if entry.kind in _DATA_KINDS or entry.mentions(excluded):
                continue
            lines += [*carried.values(), *entry.schema_lines]
            carried = {}
        return "\n".join(lines)


def read_outline(descriptor: int) -> PlainOutline:
    """The outline of the plain dump behind ``descriptor`` (read with pread: the caller's offset
    is untouched), or PlainDumpInvalid when it is not a whole pg_dump script."""
    if os.pread(descriptor, len(PLAIN_HEADER), 0) != PLAIN_HEADER:
        raise PlainDumpInvalid("does not begin like a plain pg_dump script")
    preamble: list = []
    entries: list = []
    in_copy = False
    complete = False
    context: list = []                  # _ENTRY_CONTEXT lines waiting for their entry
    own_meta_commands: list = []
    for offset, line in _lines(descriptor):
        if in_copy:
            in_copy = line != b"\\."
            continue
        if line.startswith(b"COPY ") and line.endswith(b" FROM stdin;"):
            in_copy = True
            continue
        if (_RESTRICT.match(line) and not entries and not own_meta_commands) or \
                (_UNRESTRICT.match(line) and complete):
            own_meta_commands.append((offset, len(line)))
            continue
        header = _ENTRY_HEADER.match(line)
        if header:
            kind = header.group(3).decode("utf-8", "replace")
            entries.append(PlainEntry(kind, header.group(4).decode("utf-8", "replace"),
                                      header.group(2).decode("utf-8", "replace"), context))
            context = []
            continue
        if line.startswith(_ENTRY_CONTEXT):
            context.append(line.decode("utf-8", "replace"))
            continue
        if line == _COMPLETE:
            complete = True
            continue
        if complete and line.strip() and line != b"--":
            complete = False            # something after the end mark: not pg_dump's own ending
        text = line.decode("utf-8", "replace")
        if not entries:
            preamble.append(text)
        elif entries[-1].kind not in _DATA_KINDS:
            entries[-1].schema_lines.append(text)
    if in_copy:
        raise PlainDumpInvalid("ends inside the data of a table (cut short)")
    if not complete:
        raise PlainDumpInvalid("lacks pg_dump's closing line (cut short, or not a pg_dump script)")
    return PlainOutline(preamble, entries, own_meta_commands)


def blank_out(chunk: bytes, chunk_offset: int, spans: Iterable[tuple]) -> bytes:
    """``chunk`` (the file's bytes from ``chunk_offset``) with every (offset, length) span that
    overlaps it overwritten with ``-``: a SQL comment of the same length."""
    data = None
    for offset, length in spans:
        start, end = max(offset, chunk_offset), min(offset + length, chunk_offset + len(chunk))
        if start < end:
            data = data if data is not None else bytearray(chunk)
            data[start - chunk_offset:end - chunk_offset] = b"-" * (end - start)
    return chunk if data is None else bytes(data)


def _lines(descriptor: int) -> Iterator[tuple]:
    """(offset, line) for the file's lines without their newline, read in 1 MiB blocks."""
    offset, read, pending = 0, 0, b""
    while True:
        block = os.pread(descriptor, _READ_SIZE, read)
        if not block:
            break
        read += len(block)
        pending += block
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield offset, line
            offset += len(line) + 1
    if pending:
        yield offset, pending
