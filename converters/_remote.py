"""SOURCE and OUT as fsspec URLs (``memory://``, ``file://``, ``s3://``, ``gs://``...), issue 17.

The readers work on local files (their path checks, confinement and streaming parsers are
written for them), so a URL is met at the edges:

* ``file://`` URLs are local paths and become them, with every local check kept.
* A remote SOURCE is copied once per machine to a cache folder named after the URL (the
  same local path on every machine), and read there; a sharded run's workers copy it the
  same way when their machine has no copy yet. The copy is made beside its final name and
  renamed into place, so two processes copying at once never see half of one.
* A remote OUT: the run writes its files into a local temporary folder and uploads them when
  it succeeded (each a whole object: an object store never shows half a file); a sharded
  run's workers write their shard files to a hidden folder beside OUT (the URL), which every
  worker can reach, and the client removes it.

fsspec comes with the ``[dask]`` extra; ``s3://`` and ``gs://`` need their own backends
(``s3fs``, ``gcsfs``).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import IO, Any

from .errors import MissingDependencyError, SourceNotFoundError

__all__ = ["is_url", "join", "local", "localize", "open_file", "remove_tree", "upload"]


def _scheme(text: str) -> str | None:
    head, sep, _ = text.partition("://")
    return head.lower() if sep and head and head.replace("+", "").replace("-", "").isalnum() and len(head) > 1 else None


def is_url(value: str | Path) -> bool:
    """Whether ``value`` is a URL other than ``file://`` (those are local paths)."""
    scheme = _scheme(str(value)) if isinstance(value, str) else None
    return scheme is not None and scheme != "file"


def local(value: str | Path) -> str | Path:
    """``file://`` URLs as paths; anything else unchanged."""
    if isinstance(value, str) and _scheme(value) == "file":
        return value[len("file://"):] or "/"
    return value


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError:
        raise MissingDependencyError("a URL as SOURCE or -o", "dask", "fsspec") from None
    return fsspec


def _fs(url: str) -> tuple[Any, str]:
    fs, path = _fsspec().core.url_to_fs(url)
    return fs, path


def localize(url: str) -> Path:
    """The local copy of a remote SOURCE (a file or a folder), made if this machine has none."""
    import hashlib  # here, not at the top: a run on local files never needs them (issue 16)
    import shutil
    import tempfile

    fs, path = _fs(url)
    if not fs.exists(path):
        raise SourceNotFoundError(url)
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    home = Path(tempfile.gettempdir()) / f"lbconvert-source-{digest}"
    name = posixpath.basename(path.rstrip("/")) or "source"
    target = home / name
    if target.exists():
        return target
    home.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".copy-", dir=home))
    try:
        if fs.isdir(path):
            fs.get(path.rstrip("/") + "/", str(tmp / name) + "/", recursive=True)
        else:
            fs.get(path, str(tmp / name))
        try:
            os.rename(tmp / name, target)
        except OSError:
            if not target.exists():  # another process renamed its copy first: use that one
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def join(folder: str, name: str) -> str:
    return posixpath.join(folder, name) if is_url(folder) else os.path.join(folder, name)


def open_file(path: str, mode: str) -> IO[Any]:
    """``open`` for a path or a URL (binary modes, or text as UTF-8)."""
    if not is_url(path):
        return open(path, mode, encoding=None if "b" in mode else "utf-8")  # noqa: SIM115
    handle: IO[Any] = _fsspec().open(path, mode, encoding=None if "b" in mode else "utf-8").open()
    return handle


def exists(path: str) -> bool:
    if not is_url(path):
        return os.path.exists(path)
    fs, p = _fs(path)
    return bool(fs.exists(p))


def make_folder(path: str) -> None:
    if not is_url(path):
        os.makedirs(path, exist_ok=True)
        return
    fs, p = _fs(path)
    fs.makedirs(p, exist_ok=True)


def remove_tree(path: str) -> None:
    """Remove a folder (a path or a URL); a missing one is fine."""
    import shutil

    if not is_url(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    fs, p = _fs(path)
    try:
        fs.rm(p, recursive=True)
    except FileNotFoundError:
        pass


def upload(local_file: Path, url: str) -> None:
    """Put a finished local file at ``url`` (one whole object)."""
    fs, p = _fs(url)
    fs.put_file(str(local_file), p)
