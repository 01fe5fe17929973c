"""Finding labelled clips on disk: class folders, a CSV, UrbanSound8K and ESC-50.

:func:`discover_clips` looks at a folder (or one audio file) and returns a
:class:`ClipList`: the clips with their class, fold and id, the class names in
label order, and the files it skipped with the reason. Layouts:

* ``urbansound8k`` – ``audio/fold1..10/*.wav`` + ``metadata/UrbanSound8K.csv``
  (official class ids and folds kept);
* ``esc50`` – ``audio/*.wav`` + ``meta/esc50.csv`` (targets and folds kept);
* ``csv`` – a CSV with a file column and a label column (optional fold);
* ``folders`` – one sub-folder per class (audio anywhere below it);
* ``urbansound8k-names`` – UrbanSound8K clips without their metadata CSV (loose,
  or in ``fold1..10`` folders): every file name follows the dataset's
  ``{fsID}-{classID}-{occurrenceID}-{sliceID}`` pattern, so the class comes from
  the name and the fold from the folder, with a note;
* ``files`` – loose audio files without labels (label -1).

Which one applies is detected, or forced with ``labels="folder"`` / a CSV path.
A single bad entry never sinks the scan: it is listed in ``skipped``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from synth_core.data.audio import AUDIO_EXTENSIONS
from synth_core.errors import InputError

US8K_CSV = Path("metadata") / "UrbanSound8K.csv"
ESC50_CSV = Path("meta") / "esc50.csv"
_IGNORED_NAMES = {"__MACOSX", "Thumbs.db", "desktop.ini"}
# UrbanSound8K's class ids and names (Salamon, Jacoby and Bello, 2014), for clips whose
# metadata CSV is not there: "101415-3-0-2.wav" is a dog_bark.
US8K_CLASSES = ("air_conditioner", "car_horn", "children_playing", "dog_bark", "drilling",
                "engine_idling", "gun_shot", "jackhammer", "siren", "street_music")
_US8K_NAME = re.compile(r"^\d+-(\d)-\d+-\d+$")
_FOLD_DIR = re.compile(r"^fold(\d+)$")
_FILE_COLUMNS = ("file", "filename", "file_name", "path", "slice_file_name", "clip")
_LABEL_COLUMNS = ("label", "class", "category", "classname", "class_name", "target")


@dataclass(frozen=True)
class ClipRef:
    """One clip to extract: its file, class index (-1 = unlabeled), fold and id."""

    path: Path
    label: int
    fold: int | None = None
    id: str = ""


@dataclass(frozen=True)
class Skipped:
    """A file left out, and why (shown in the page, the CLI summary and the job log)."""

    file: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason}


@dataclass
class ClipList:
    clips: list[ClipRef]
    class_names: list[str]
    layout: str
    root: Path
    skipped: list[Skipped] = field(default_factory=list)
    clip_seconds: float | None = None  # the layout's own clip length (ESC-50: 5 s), if it has one
    notes: list[str] = field(default_factory=list)  # what a user may not expect (warnings)
    reading: str = ""  # how a guessed layout was read (a wrapper folder looked through)

    @property
    def has_folds(self) -> bool:
        return bool(self.clips) and all(c.fold is not None for c in self.clips)


def discover_clips(root: str | os.PathLike[str], *, labels: str = "auto") -> ClipList:
    """The clips under ``root`` (see the module docstring).

    ``labels`` is ``"auto"`` (detect), ``"folder"`` (class folders) or the path
    of a CSV with file and label columns.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise InputError(f"input {root}: no such file or folder; check the path (on the page, "
                         "upload files instead)")
    if root.is_file():
        if root.suffix.lower() == ".csv":
            return _from_csv(root, root.parent, layout="csv")
        return ClipList(clips=[ClipRef(root, -1, None, root.name)], class_names=[], layout="file",
                        root=root.parent)
    if labels not in ("auto", "folder", ""):
        csv_path = Path(labels).expanduser()
        if not csv_path.is_file():
            raise InputError(f"labels {labels!r}: no such CSV file; pass 'folder' for class "
                             "folders or the path of a CSV with file,label columns")
        result = _from_csv(csv_path, root, layout="csv")
    elif labels == "folder":
        result = _from_folders(root)
    else:
        official = next((name for name, meta in _OFFICIAL.items()
                         if (root / meta.csv).is_file()), None)
        result = _from_official(root, official) if official else _from_folders(root)
    if not result.clips:
        found = "; ".join(f"{s.file}: {s.reason}" for s in result.skipped[:3])
        raise InputError(f"input {root}: no usable audio clips found ({result.layout} layout)"
                         + (f"; skipped {found}" if found else "")
                         + f"; put {', '.join(AUDIO_EXTENSIONS)} files in one folder per class")
    return result


def _ignored(path: Path) -> bool:
    return any(part.startswith(".") or part in _IGNORED_NAMES for part in path.parts)


def _walk_files(folder: Path) -> list[Path]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sorted(p for p in files if not _ignored(p.relative_to(folder)))


def _audio_or_skip(paths: list[Path], root: Path, skipped: list[Skipped]) -> list[Path]:
    keep = []
    for path in paths:
        if path.suffix.lower() in AUDIO_EXTENSIONS:
            keep.append(path)
        else:
            skipped.append(Skipped(_rel(path, root),
                                   f"unknown extension {path.suffix or '(none)'!r}; supported: "
                                   + ", ".join(AUDIO_EXTENSIONS)))
    return keep


def _from_folders(root: Path) -> ClipList:
    # A zip of class folders often wraps them in one top folder: look through it
    # (but one folder that holds audio itself is a single class, not a wrapper).
    top, wrappers = root, []
    while True:
        entries = [p for p in root.iterdir() if not _ignored(Path(p.name))]
        dirs = [p for p in entries if p.is_dir() and not p.is_symlink()]
        if len(dirs) == 1 and not any(p.is_file() for p in entries) and not any(
                p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS for p in dirs[0].iterdir()):
            root = dirs[0]
            wrappers.append(root.name)
            continue
        break
    skipped: list[Skipped] = []
    walked = {d: _walk_files(d) for d in dirs}  # each tree is walked once
    # Natural order, then the exact name: "Dog" and "dog" get the same labels on every machine.
    class_dirs = sorted((d for d in dirs if any(f.suffix.lower() in AUDIO_EXTENSIONS
                                                for f in walked[d])),
                        key=lambda d: (_natural_key(d.name), d.name))
    by_name = _us8k_by_name(root, entries, class_dirs, walked)
    if by_name is not None:
        return by_name
    notes = _folder_notes(class_dirs, [d for d in dirs if d not in class_dirs])
    reading = ""
    if wrappers and class_dirs:  # a zip's wrapper, or one class whose takes sit in folders
        reading = (f"{top.name}/{'/'.join(wrappers)}/ holds only folders, so it was read as a "
                   f"wrapper and its sub-folders are the classes ({_names(class_dirs)}); if "
                   f"{wrappers[-1]!r} is itself the class, give a labels CSV (--labels) or put "
                   "the clips straight into its folder")
    if not class_dirs:  # loose files, no labels
        files = _audio_or_skip([p for p in entries if p.is_file()], root, skipped)
        clips = [ClipRef(p, -1, None, _rel(p, root)) for p in sorted(files)]
        return ClipList(clips, [], "files", root, skipped, notes=notes)
    clips = []
    for label, folder in enumerate(class_dirs):
        for path in _audio_or_skip(walked[folder], root, skipped):
            clips.append(ClipRef(path, label, None, _rel(path, root)))
    for path in entries:
        if path.is_file():
            skipped.append(Skipped(_rel(path, root), "not inside a class folder; move it into "
                                                     "the folder of its class"))
    return ClipList(clips, [d.name for d in class_dirs], "folders", root, skipped, notes=notes,
                    reading=reading)


def _us8k_by_name(root: Path, entries: list[Path], class_dirs: list[Path],
                  walked: dict[Path, list[Path]]) -> ClipList | None:
    """UrbanSound8K clips without the metadata CSV (:data:`US8K_CLASSES`), or None.

    Only when every audio file's name follows the dataset's pattern and the folders, if
    any, are all ``foldN``: folders named fold1..fold10 would otherwise become ten
    "classes", and loose clips would have no class at all.
    """
    if class_dirs and not all(_FOLD_DIR.match(d.name) for d in class_dirs):
        return None
    if class_dirs and any(p.is_file() for p in entries):
        return None
    found = ([(p, int(_FOLD_DIR.match(d.name).group(1))) for d in class_dirs
              for p in walked[d] if p.suffix.lower() in AUDIO_EXTENSIONS] if class_dirs else
             [(p, None) for p in sorted(entries) if p.is_file()
              and p.suffix.lower() in AUDIO_EXTENSIONS])
    matches = [_US8K_NAME.match(p.stem) for p, _ in found]
    if not found or not all(matches):
        return None
    ids = sorted({int(m.group(1)) for m in matches})
    label_of = {i: k for k, i in enumerate(ids)}
    clips = [ClipRef(p, label_of[int(m.group(1))], fold, _rel(p, root))
             for (p, fold), m in zip(found, matches)]
    skipped = [Skipped(_rel(p, root), "not an audio file of the UrbanSound8K folders")
               for d in class_dirs for p in walked[d] if p.suffix.lower() not in AUDIO_EXTENSIONS]
    where = "in fold folders" if class_dirs else "without folders"
    names = (f"all {len(clips)} clip names ({where}) follow" if len(clips) > 1
             else f"the clip's name ({where}) follows")
    note = (f"no {US8K_CSV} here, but {names} "
            "UrbanSound8K's {fsID}-{classID}-{occurrenceID}-{sliceID} pattern, so each clip's "
            f"class is read from its name (ids {', '.join(map(str, ids))}: "
            f"{', '.join(US8K_CLASSES[i] for i in ids)})"
            + ("" if class_dirs else " and the clips have no folds")
            + f"; put the dataset's {US8K_CSV} beside audio/ to use it instead")
    return ClipList(clips, [US8K_CLASSES[i] for i in ids], "urbansound8k-names", root, skipped,
                    clip_seconds=_OFFICIAL["urbansound8k"].clip_seconds, notes=[note])


def _folder_notes(class_dirs: list[Path], empty: list[Path]) -> list[str]:
    """What a user may not expect from reading class folders: folders without audio, class
    names that differ only in case."""
    notes = []
    if empty:
        notes.append(f"folder(s) {_names(empty)} hold no audio files and are not classes")
    lowered: dict[str, list[str]] = {}
    for d in class_dirs:
        lowered.setdefault(d.name.lower(), []).append(d.name)
    for names in lowered.values():
        if len(names) > 1:
            notes.append(f"class folders {', '.join(repr(n) for n in names)} differ only in "
                         "case: they are separate classes here, but would be one folder on "
                         "macOS or Windows; rename one if they are the same class")
    return notes


def _names(dirs: list[Path], limit: int = 8) -> str:
    shown = ", ".join(d.name for d in dirs[:limit])
    return shown + (f" and {len(dirs) - limit} more" if len(dirs) > limit else "")


def _read_csv(path: Path):
    import pandas as pd

    try:
        return pd.read_csv(path)
    except Exception as exc:  # pandas raises several parser/decoding errors
        raise InputError(f"labels CSV {path}: could not be read ({exc}); save it as a "
                         "comma-separated UTF-8 file with a header row") from exc


@dataclass(frozen=True)
class _Official:
    """Where an official dataset keeps its metadata CSV and clips, and its column names."""

    csv: Path
    file: str
    target: str
    name: str
    folder: str  # clip folder under the root; "{fold}" is filled from the fold column
    clip_seconds: float  # the dataset's clip length: every clip lasts it, or at most it


_OFFICIAL = {  # checked in this order
    # UrbanSound8K slices last at most 4 s (7077 of 8732 exactly 4 s); ESC-50 clips all 5 s.
    "urbansound8k": _Official(US8K_CSV, "slice_file_name", "classID", "class", "audio/fold{fold}",
                              4.0),
    "esc50": _Official(ESC50_CSV, "filename", "target", "category", "audio", 5.0),
}


def _from_official(root: Path, layout: str) -> ClipList:
    meta = _OFFICIAL[layout]
    csv_path = root / meta.csv
    table = _read_csv(csv_path)
    _require_columns(table, csv_path, (meta.file, "fold", meta.target, meta.name))
    names, label_of, notes = _class_names_by_id(table, meta.target, meta.name, csv_path)
    clips, skipped, listed = [], [], set()
    for row in table.to_dict("records"):
        fold = int(row["fold"])
        rel = Path(meta.folder.format(fold=fold)) / str(row[meta.file])
        path = root / rel
        listed.add(rel)
        if not path.is_file():
            skipped.append(Skipped(str(rel), f"listed in {meta.csv.name} but missing on disk"))
            continue
        clips.append(ClipRef(path, label_of[int(row[meta.target])], fold, str(rel)))
    # Clips on disk the CSV does not list are left out (a CSV cut down to some classes is a
    # legitimate choice), in one note rather than one skipped entry each.
    clip_root = root / Path(meta.folder).parts[0]
    unlisted = sorted(p.relative_to(root) for p in _walk_files(clip_root)
                      if p.suffix.lower() in AUDIO_EXTENSIONS
                      and p.relative_to(root) not in listed) if clip_root.is_dir() else []
    if unlisted:
        notes.append(f"{len(unlisted)} audio file(s) under {clip_root.name}/ are not listed in "
                     f"{meta.csv.name} and were left out (e.g. {unlisted[0]}); add rows for "
                     "them to the CSV to use them")
    return ClipList(clips, names, layout, root, skipped, clip_seconds=meta.clip_seconds,
                    notes=notes)


def _from_csv(csv_path: Path, root: Path, *, layout: str) -> ClipList:
    table = _read_csv(csv_path)
    columns = {str(c).strip().lower(): c for c in table.columns}
    file_col = next((columns[c] for c in _FILE_COLUMNS if c in columns), None)
    label_col = next((columns[c] for c in _LABEL_COLUMNS if c in columns), None)
    if file_col is None or label_col is None:
        raise InputError(f"labels CSV {csv_path}: needs a file column ({'/'.join(_FILE_COLUMNS)}) "
                         f"and a label column ({'/'.join(_LABEL_COLUMNS)}); found columns "
                         f"{', '.join(map(str, table.columns))}; rename the header row")
    fold_col = columns.get("fold")
    table = table.dropna(subset=[file_col])
    raw_labels = table[label_col]
    if raw_labels.isna().any():
        line = int(raw_labels.isna().to_numpy().argmax()) + 2
        raise InputError(f"labels CSV {csv_path}: line {line} has no label; give every file a "
                         "label or remove the line")
    names = sorted({str(v) for v in raw_labels}, key=_natural_key)
    index = {name: i for i, name in enumerate(names)}
    clips, skipped = [], []
    base = csv_path.parent if root == csv_path.parent else root
    for row in table.to_dict("records"):
        rel = str(row[file_col])
        path = Path(rel) if Path(rel).is_absolute() else base / rel
        if not path.is_file() and (csv_path.parent / rel).is_file():
            path = csv_path.parent / rel
        if not path.is_file():
            skipped.append(Skipped(rel, f"listed in {csv_path.name} but missing on disk"))
            continue
        if path.suffix.lower() not in AUDIO_EXTENSIONS:
            skipped.append(Skipped(rel, f"unknown extension {path.suffix!r}; supported: "
                                        + ", ".join(AUDIO_EXTENSIONS)))
            continue
        fold = None
        if fold_col is not None:
            value = row[fold_col]
            fold = int(value) if value == value else None
        label = index[str(row[label_col])]
        clips.append(ClipRef(path, label, fold, rel))
    return ClipList(clips, names, layout, base, skipped)


def _require_columns(table, path: Path, needed: tuple[str, ...]) -> None:
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; this file does not "
                         "look like the official metadata - restore the original CSV")


def _class_names_by_id(table, id_col: str, name_col: str, path: Path
                       ) -> tuple[list[str], dict[int, int], list[str]]:
    """(class names in id order, official id -> label 0..K-1, notes).

    A CSV cut down to some classes (ids 3, 5, 9) is numbered 0..K-1 in id order, with a
    note; an id with two names, or a name with two ids, is refused.
    """
    pairs = table[[id_col, name_col]].drop_duplicates().sort_values(id_col)
    ids = pairs[id_col].astype(int).tolist()
    names = [str(n) for n in pairs[name_col]]
    for column, values in ((id_col, ids), (name_col, names)):
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        if repeated:
            raise InputError(f"{path}: {column} {', '.join(repeated)} appear(s) with more than "
                             f"one {name_col if column == id_col else id_col}; each class needs "
                             "one id and one name - restore the original CSV")
    notes = []
    if ids != list(range(len(ids))):
        shown = ", ".join(f"{i} ({n}) -> {k}" for k, (i, n) in enumerate(zip(ids, names)))
        notes.append(f"{path.name} holds class ids {', '.join(map(str, ids))} only, so they "
                     f"are numbered 0..{len(ids) - 1} here: {shown}")
    return names, {i: k for k, i in enumerate(ids)}, notes


def _natural_key(text: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
