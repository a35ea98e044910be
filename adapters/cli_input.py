"""Reading a CLI input file (or - for standard input) with a size cap, shared by review, explain and querylog.

Kept free of heavy imports: `consultant review` is timed from process start.
"""

from __future__ import annotations

import os
import sys


class Usage(Exception):
    """A usage error (exit 2): the file does not exist or is a directory."""


def read_bytes(path: str, max_bytes: int, label: str | None = None, kind: str = "file") -> bytes:
    """Up to max_bytes + 1 bytes of the file (the caller reports anything longer as too large)."""
    from bot.errors import ConsultantError

    label = label or path
    if path == "-":
        return sys.stdin.buffer.read(max_bytes + 1)
    if not os.path.exists(path):
        raise Usage(f"{label}: no such file")
    if os.path.isdir(path):
        raise Usage(f"{label}: is a directory, not a {kind}")
    try:
        with open(path, "rb") as fh:
            return fh.read(max_bytes + 1)
    except OSError as exc:
        raise ConsultantError(f"cannot read {label}: {exc.strerror or exc}") from None
