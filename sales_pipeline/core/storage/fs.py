"""Where the warehouse lives: a local folder (the default) or an object store URL, through fsspec.

`as_root` turns the warehouse setting into a path object: a plain `pathlib.Path` for a folder, a
`upath.UPath` (universal-pathlib, i.e. an fsspec filesystem plus a path) for a URL such as
`s3://bucket/prefix`. Every warehouse module reads and writes through the helpers below, which
keep the two atomic in their own way:

- local: a temporary file in the target's folder (same filesystem), fsync, `os.replace`, so a
  reader sees the old file or the new one (POSIX rename is atomic);
- object store: one PUT of the whole object. S3 (and S3-compatible stores) make an object visible
  only once its upload completes, so a reader sees the old object or the new one, never a part;
  no temporary object and no rename (S3 has no rename). s3fs sends one PutObject up to its block
  size (50 MiB) and a multipart upload above it, which is equally all-or-nothing.

Storage options come from the environment, never from a file in the repository: credentials
through the standard AWS_* variables (or any source botocore reads: profiles, instance roles),
the endpoint of an S3-compatible store from `SALES_PIPELINE_S3_ENDPOINT_URL` (else
`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, which botocore reads itself), and anything else from
fsspec's own configuration (`FSSPEC_S3_*` variables or `~/.config/fsspec/`).
"""

from __future__ import annotations

import os
import pathlib
import uuid
from typing import Any

from upath import UPath

Root = pathlib.Path | UPath
"""A warehouse location: `pathlib.Path` (local) or `UPath` (remote)."""

S3_ENDPOINT_ENV = "SALES_PIPELINE_S3_ENDPOINT_URL"
_LOCAL_PROTOCOLS = ("file", "local")


def is_url(value: object) -> bool:
    """True for `scheme://...` other than a local `file://` URL."""
    text = str(value)
    return "://" in text and text.split("://", 1)[0] not in _LOCAL_PROTOCOLS


def storage_options(protocol: str) -> dict[str, Any]:
    """fsspec options for `protocol`, from the environment."""
    if protocol not in ("s3", "s3a"):
        return {}
    # Listings are not cached: another process (a worker, the next run) may have written since.
    options: dict[str, Any] = {"use_listings_cache": False}
    endpoint = os.environ.get(S3_ENDPOINT_ENV) or os.environ.get("AWS_ENDPOINT_URL_S3")
    if endpoint:
        options["endpoint_url"] = endpoint
    return options


def as_root(value: str | os.PathLike | UPath) -> Root:
    """A path object for a warehouse setting: `Path` for a folder, `UPath` for a URL."""
    if is_remote(value):
        return value  # type: ignore[return-value]
    text = str(value)
    if "://" in text:
        protocol, rest = text.split("://", 1)
        if protocol in _LOCAL_PROTOCOLS:
            return pathlib.Path(rest)
        return UPath(text.rstrip("/"), **storage_options(protocol))
    return pathlib.Path(value)


def is_remote(path: object) -> bool:
    """True for a path on an fsspec filesystem other than the local disk."""
    return isinstance(path, UPath) and not isinstance(path, pathlib.Path)


def display(path: Root) -> str:
    """The path as a user types it (`s3://bucket/key` or a local path)."""
    return str(path)


def write_bytes(target: Root, payload: bytes) -> Root:
    """Write a whole file atomically (see the module note); returns `target`."""
    target = as_root(target)
    if is_remote(target):
        target.fs.pipe_file(target.path, payload)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def fsync_dir(path: pathlib.Path) -> None:
    """Make a rename in `path` durable, not only the file contents."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_bytes(target: Root) -> bytes:
    """The whole file; FileNotFoundError if absent."""
    return as_root(target).read_bytes()


def is_file(target: Root) -> bool:
    return as_root(target).is_file()


def signature(target: Root) -> str | None:
    """A token that changes whenever the file is replaced; None if absent.

    Local: size, mtime (ns) and inode (an atomic replace changes the inode). Object store: size,
    ETag and last-modified time as the store's `info()` reports them (a re-PUT changes the
    last-modified time; different content changes the ETag).
    """
    target = as_root(target)
    if is_remote(target):
        try:
            info = target.fs.info(target.path)
        except FileNotFoundError:
            return None
        return remote_signature(info) if info.get("type") == "file" else None
    try:
        stat = os.stat(target)
    except FileNotFoundError:
        return None
    return f"{stat.st_size}-{stat.st_mtime_ns}-{stat.st_ino}"


def remote_signature(info: dict[str, Any]) -> str:
    """Signature of an object from its fsspec `info()` / `find(detail=True)` entry."""
    tag = str(info.get("ETag") or info.get("etag") or info.get("md5") or "").strip('"')
    modified = info.get("LastModified") or info.get("mtime") or info.get("last_modified") or ""
    stamp = modified.isoformat() if hasattr(modified, "isoformat") else str(modified)
    return f"{info.get('size')}-{tag}-{stamp}"


def remote_files(base: UPath) -> dict[str, dict[str, Any]]:
    """{path relative to `base`: info} of every object under `base`, in one listing."""
    prefix = base.path.rstrip("/") + "/"
    try:
        found = base.fs.find(base.path, detail=True)
    except FileNotFoundError:
        return {}
    return {
        name[len(prefix) :]: info
        for name, info in found.items()
        if name.startswith(prefix) and info.get("type", "file") == "file"
    }


def arrow_filesystem(root: Root):
    """(pyarrow filesystem, path) for pyarrow datasets and readers: fsspec through
    `pyarrow.fs.FSSpecHandler` for a remote root, pyarrow's own local filesystem otherwise."""
    import pyarrow.fs as pafs

    if is_remote(root):
        return pafs.PyFileSystem(pafs.FSSpecHandler(root.fs)), root.path
    return pafs.LocalFileSystem(), str(root)
