"""Write-to-a-temporary-name-then-rename: the one way every output file is put in place.

``os.replace`` is atomic on one file system, so a reader of the target sees the old file or
the new one, never half of one; the temporary name is a hidden sibling (same folder, same
file system) tagged with the process id, so two runs never share one.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["staging_path", "write_atomic"]


def staging_path(path: Path) -> Path:
    """The hidden sibling ``path`` is written to before it is renamed into place."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a whole file through :func:`staging_path` and a rename (the temporary file is
    removed when writing fails; ``OSError`` propagates)."""
    tmp = staging_path(path)
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
