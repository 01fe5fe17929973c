"""Uploaded files and zip archives, unpacked safely inside ``workspace/uploads/``.

Everything a user uploads lands in ``uploads/<safe name>/`` (a new folder each
time; an existing one gets a ``-2``, ``-3``... suffix, never overwritten). Zip
archives are checked before anything is written and again while unpacking:

* no absolute paths, drive letters or ``..`` components ("zip slip"), no
  symlinks or other special entries;
* limits on the number of files, each file's and the total uncompressed size,
  and the compression ratio (zip bombs) - checked on the declared sizes and on
  the bytes actually inflated, since headers can lie;
* every path component goes through :func:`workspace.safe_name`, and the
  result is checked to stay inside the destination folder.

An archive that breaks a rule is refused as a whole, with a message naming the
entry, the rule and the fix; a half-unpacked folder is removed.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from synth_core.errors import InputError, StorageError
from synth_core.workspace import Workspace, safe_name

_SKIP_PARTS = {"__MACOSX"}
_SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class UploadLimits:
    max_files: int = 20_000
    max_file_bytes: int = 512 * 1024 ** 2      # 512 MiB per file
    max_total_bytes: int = 4 * 1024 ** 3       # 4 GiB unpacked (UrbanSound8K, ~6 GiB: a folder)
    max_ratio: float = 200.0                   # uncompressed / compressed, per entry
    max_upload_bytes: int = 1024 ** 3          # 1 GiB per uploaded file


def new_upload_dir(workspace: Workspace, name: str) -> Path:
    """A fresh folder ``uploads/<safe name>[-N]/`` (created)."""
    base = safe_name(Path(str(name)).stem if str(name).lower().endswith(".zip") else str(name),
                     default="upload")
    workspace.uploads_dir.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        candidate = workspace.uploads_dir / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise StorageError(f"too many uploads called {base!r} in {workspace.uploads_dir}; delete some")


def save_uploaded_files(files: list[tuple[str, bytes]], workspace: Workspace, *, name: str,
                        subfolder: str = "", limits: UploadLimits = UploadLimits()) -> Path:
    """Write ``(file name, bytes)`` pairs to a new upload folder (optionally a class sub-folder).

    Returns the upload folder. File names are sanitised; duplicates get a suffix.
    """
    if not files:
        raise InputError("no files uploaded; choose one or more audio files")
    if len(files) > limits.max_files:
        raise InputError(f"{len(files)} files uploaded; the limit is {limits.max_files}; "
                         "upload a zip or point at a folder on the server")
    dest = new_upload_dir(workspace, name)
    target_dir = dest / safe_name(subfolder) if subfolder else dest
    target_dir.mkdir(parents=True, exist_ok=True)
    try:
        for file_name, data in files:
            if len(data) > limits.max_upload_bytes:
                raise InputError(f"upload {file_name!r} is {len(data) / 1e6:.0f} MB; the limit is "
                                 f"{limits.max_upload_bytes / 1e6:.0f} MB; point at a folder on "
                                 "the server instead")
            _write_new(_unique(target_dir, _safe_file_name(file_name)), io.BytesIO(data),
                       limits.max_upload_bytes, file_name)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest


def unpack_zip(archive: str | os.PathLike[str] | bytes | BinaryIO, workspace: Workspace, *,
               name: str = "upload", limits: UploadLimits = UploadLimits()) -> Path:
    """Unpack a zip (path, bytes or file object) into a new folder under ``uploads/``."""
    label = name if not isinstance(archive, (str, os.PathLike)) else Path(archive).name
    source = io.BytesIO(archive) if isinstance(archive, (bytes, bytearray)) else archive
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"upload {label!r} is not a readable zip archive ({exc}); zip the class "
                         "folders again (e.g. `zip -r clips.zip clips/`)") from exc
    with zf:
        entries = _check_entries(zf, label, limits)
        dest = new_upload_dir(workspace, name)
        try:
            written = 0
            root = dest.resolve()
            for info, parts in entries:
                target = dest.joinpath(*parts)
                if root not in target.resolve().parents:
                    raise InputError(f"zip {label!r}: entry {info.filename!r} would land outside "
                                     "the upload folder; the archive was refused")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as handle:
                    written += _write_new(_unique(target.parent, target.name), handle,
                                          min(limits.max_file_bytes,
                                              limits.max_total_bytes - written), info.filename)
        except zipfile.BadZipFile as exc:
            shutil.rmtree(dest, ignore_errors=True)
            raise InputError(f"zip {label!r} is damaged ({exc}); create the archive again") from exc
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    return dest


def _check_entries(zf: zipfile.ZipFile, label: str, limits: UploadLimits
                   ) -> list[tuple[zipfile.ZipInfo, list[str]]]:
    """Validate every entry before writing anything; return (info, safe path parts)."""
    entries = []
    total = 0
    for info in zf.infolist():
        raw = info.filename
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise InputError(f"zip {label!r}: entry {raw!r} is a symbolic link; links are not "
                             "accepted - zip the real files instead")
        if info.is_dir():
            continue
        if mode and not stat.S_ISREG(mode) and stat.S_IFMT(mode):
            raise InputError(f"zip {label!r}: entry {raw!r} is not a regular file; remove it")
        path = raw.replace("\\", "/")
        if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
            raise InputError(f"zip {label!r}: entry {raw!r} has an absolute path; the archive was "
                             "refused - zip the folder with relative paths")
        parts = [p for p in PurePosixPath(path).parts if p not in ("", ".")]
        if ".." in parts:
            raise InputError(f"zip {label!r}: entry {raw!r} climbs out of the folder with '..'; "
                             "the archive was refused - zip the folder with relative paths")
        if not parts or any(p in _SKIP_PARTS for p in parts) or parts[-1] in _SKIP_NAMES \
                or parts[-1].startswith("._"):
            continue
        if len(entries) + 1 > limits.max_files:
            raise InputError(f"zip {label!r} holds more than {limits.max_files} files; split it "
                             "or point at a folder on the server")
        if info.file_size > limits.max_file_bytes:
            raise InputError(f"zip {label!r}: {raw!r} unpacks to {info.file_size / 1e6:.0f} MB, "
                             f"over the {limits.max_file_bytes / 1e6:.0f} MB limit per file")
        if info.file_size > 1_000_000 and info.file_size > limits.max_ratio * max(
                info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise InputError(f"zip {label!r}: {raw!r} compresses {ratio:.0f}:1, "
                             f"more than the {limits.max_ratio:.0f}:1 a real recording does; "
                             "this looks like a zip bomb and was refused")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise InputError(f"zip {label!r} unpacks to more than "
                             f"{limits.max_total_bytes / 1e9:.1f} GB; point at a folder on the "
                             "server instead")
        safe_parts = [safe_name(p) for p in parts[:-1]] + [_safe_file_name(parts[-1])]
        entries.append((info, safe_parts))
    if not entries:
        raise InputError(f"zip {label!r} holds no files; zip the folder that holds the class "
                         "folders")
    # A name used both as a file and as a folder (after making names safe: "a" and "a\\x"
    # -> a/x) cannot be unpacked; say which entries clash instead of failing half-way.
    files = {tuple(parts): info.filename for info, parts in entries}
    for info, parts in entries:
        for k in range(1, len(parts)):
            if tuple(parts[:k]) in files:
                raise InputError(
                    f"zip {label!r}: entry {files[tuple(parts[:k])]!r} is a file, but entry "
                    f"{info.filename!r} needs a folder of that name ({'/'.join(parts[:k])}); "
                    "rename one of them and zip again")
    return entries


def _safe_file_name(name: str) -> str:
    """``safe_name`` for the stem, keeping a short lower-case extension."""
    base = PurePosixPath(str(name).replace("\\", "/")).name
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        return safe_name(base, default="file")
    suffix = safe_name(ext, default="bin", max_length=8).lower()
    return f"{safe_name(stem, default='file')}.{suffix}"


def _unique(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while target.exists():
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    return target


def _write_new(target: Path, handle: BinaryIO, limit: int, label: str) -> int:
    """Copy ``handle`` to a new file, stopping when more than ``limit`` bytes arrive."""
    written = 0
    with open(target, "xb") as out:
        while chunk := handle.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise InputError(f"{label!r} inflates beyond the size limit ({limit / 1e6:.0f} MB "
                                 "left); this looks like a zip bomb and was refused")
            out.write(chunk)
    return written
