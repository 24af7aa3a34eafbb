"""The world's persistent state: an append-only log with a checksum per
record, compacted by write-then-rename.

The file is ``DIR/entities.log``: an 8-byte magic, then records, each::

    u32 length (little-endian) | u32 CRC-32 of the payload | payload

the payload one msgpack term: ``["put", entity record]`` (a persistent
entity added or changed: its whole state) or ``["del", id]``.

Why it can't be left unloadable: a record is written with one `os.write`
on a file opened with ``O_APPEND``, so a crash (even ``kill -9``) leaves at
worst a cut-short last record; a flipped byte fails its checksum. Reading
keeps every record that checks, skips one that fails its checksum (its
length still frames the next), and stops at a cut-short record or a length
that can't be right, saying in `problems` what it skipped and where. Then
`open` sets a damaged file aside as ``entities.log.damaged-<N>`` (never
deleted: it is evidence) and rewrites what it kept as a fresh file, so new
records never follow garbage.

Compaction writes the live entities to ``entities.log.tmp``, fsyncs it,
renames it over the log and fsyncs the directory: at every instant the log
is either the old file or the new one. Appends are written, not fsynced:
they survive the process dying (the kernel has them), and a power loss can
lose the last ones but not the file's readability.

Everything here is blocking file I/O on the caller's thread, short (a
record) except `open` and `compact` (the whole live state). Switches: never.
"""

import os
import struct
import zlib

import msgpack

__all__ = ["WorldLog", "LOG_NAME", "MAGIC", "MAX_RECORD"]

LOG_NAME = "entities.log"
MAGIC = b"HWLOG\x00\x01\n"
MAX_RECORD = 1 << 20  # bytes: no valid record comes close (a label is 200 characters)
_HEAD = struct.Struct("<II")


def _pack(term):
    payload = msgpack.packb(term, use_bin_type=True)
    return _HEAD.pack(len(payload), zlib.crc32(payload)) + payload


def read_records(data, name=LOG_NAME):
    """The terms of the records in `data` (a whole log file), and a list of
    what was skipped, for people. Switches: never."""
    problems = []
    if not data:
        return [], problems
    if not data.startswith(MAGIC):
        problems.append(f"{name}: not a world log (bad header): all {len(data)} bytes skipped")
        return [], problems
    terms = []
    pos = len(MAGIC)
    end = len(data)
    while pos < end:
        if end - pos < _HEAD.size:
            problems.append(f"{name}: the last record is cut short at byte {pos}"
                            f" ({end - pos} bytes; a write interrupted by a crash?): skipped")
            break
        length, crc = _HEAD.unpack_from(data, pos)
        body = pos + _HEAD.size
        if length > MAX_RECORD:
            problems.append(f"{name}: a record at byte {pos} claims {length} bytes, more than"
                            f" any record can hold: the remaining {end - pos} bytes are"
                            " unreadable and were skipped")
            break
        if body + length > end:
            problems.append(f"{name}: the last record is cut short at byte {pos}"
                            f" ({end - body} of {length} bytes; a write interrupted by a"
                            " crash?): skipped")
            break
        payload = data[body:body + length]
        pos = body + length
        if zlib.crc32(payload) != crc:
            problems.append(f"{name}: the record at byte {body - _HEAD.size} fails its"
                            " checksum (corrupted on disk): skipped")
            continue
        try:
            terms.append(msgpack.unpackb(payload, raw=False, use_list=False,
                                         strict_map_key=False))
        except Exception as e:  # noqa: BLE001 - any undecodable payload is a bad record
            problems.append(f"{name}: the record at byte {body - _HEAD.size} is not"
                            f" msgpack ({type(e).__name__}): skipped")
    return terms, problems


class WorldLog:
    """The log of one data directory.

    Use `open` to read it back; then `put`, `delete` and `compact`.

    Attributes:
        dir: the directory (``DATA_DIR/world``).
        path: the log file.
        appended: records appended since the last compaction.
    """

    def __init__(self, dir):
        self.dir = dir
        self.path = os.path.join(dir, LOG_NAME)
        self.appended = 0
        self._fd = None

    def open(self):
        """Read the log: returns ``(records, problems)``, `records` the
        terms that checked, in order, `problems` what was skipped (for
        people). A damaged file is set aside; the caller then calls
        `compact` with what it kept, which also opens the file for appends.

        Raises:
            OSError: the directory can't be made or the file read.
        """
        os.makedirs(self.dir, exist_ok=True)
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            data = b""
        records, problems = read_records(data)
        if problems:
            n = 1
            while os.path.exists(f"{self.path}.damaged-{n}"):
                n += 1
            aside = f"{self.path}.damaged-{n}"
            os.replace(self.path, aside)
            problems.append(f"{LOG_NAME}: the damaged file was kept as {os.path.basename(aside)}")
        return records, problems

    def compact(self, records):
        """Replace the log with `records` (``put`` terms of the live
        persistent entities): write then rename.

        Raises:
            OSError: the new file can't be written (the old one stays).
        """
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(MAGIC + b"".join(_pack(r) for r in records))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.dir)
        self.close()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self.appended = 0

    def append(self, term):
        """Append one record with a single write.

        Raises:
            OSError: the write failed.
        """
        rec = _pack(term)
        written = os.write(self._fd, rec)
        if written != len(rec):  # a full disk: the record is cut short
            raise OSError(f"wrote {written} of {len(rec)} bytes of a world log record")
        self.appended += 1

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
