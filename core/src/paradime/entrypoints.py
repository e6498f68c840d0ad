"""Internal: reading one entry point group from the installed distributions, cheaply.

``importlib.metadata`` imports the email parser, zipfile and sockets (about 30 ms, a fifth of
``paradime run --help``) to answer what a few small text files say. This reads the same files
directly: every ``*.dist-info`` / ``*.egg-info`` folder on ``sys.path``, its
``entry_points.txt``, and the ``Name`` / ``Version`` lines of its metadata. As with
``importlib.metadata``, the first distribution of a name on ``sys.path`` wins. A distribution
whose ``entry_points.txt`` names the group but is not UTF-8 text is reported, not read: one
broken file must not take the CLI down.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_SUFFIXES = (".dist-info", ".egg-info")


@dataclass(frozen=True)
class EntryPoint:
    """``name = module:attr`` from a distribution's ``entry_points.txt``."""

    name: str
    value: str
    distribution: str | None
    version: str | None

    def load(self) -> Any:
        module_name, _, attrs = self.value.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Unreadable:
    """A distribution whose ``entry_points.txt`` names the group but cannot be read as text."""

    distribution: str
    path: str
    reason: str


def _read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _read(path: str) -> str | None:
    """A metadata file's text; bytes that are not UTF-8 are replaced (only names are read)."""
    data = _read_bytes(path)
    return None if data is None else data.decode("utf-8", "replace")


def _headers(folder: str) -> tuple[str | None, str | None]:
    """Name and Version from METADATA (dist-info) or PKG-INFO (egg-info)."""
    text = _read(os.path.join(folder, "METADATA")) or _read(os.path.join(folder, "PKG-INFO"))
    name = version = None
    for line in (text or "").splitlines():
        if not line.strip():
            break  # the body starts after the first blank line
        key, _, value = line.partition(":")
        if key == "Name":
            name = value.strip()
        elif key == "Version":
            version = value.strip()
    return name, version


def _section(text: str, group: str) -> Iterator[tuple[str, str]]:
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current == group and "=" in line:
            key, _, value = line.partition("=")
            yield key.strip(), value.strip()


def entry_points(group: str, unreadable: list[Unreadable] | None = None) -> list[EntryPoint]:
    """Every entry point of ``group``, in ``sys.path`` order; distributions whose entry points
    cannot be read are skipped and added to ``unreadable``."""
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for base in sys.path:
        try:
            names = sorted(os.listdir(base or "."))
        except OSError:
            continue
        for folder_name in names:
            if not folder_name.endswith(_SUFFIXES):
                continue
            stem = folder_name.rsplit(".", 1)[0]
            key = _normalise(stem.split("-", 1)[0])
            if key in seen:
                continue
            seen.add(key)
            folder = os.path.join(base or ".", folder_name)
            path = os.path.join(folder, "entry_points.txt")
            data = _read_bytes(path)
            if not data or f"[{group}]".encode() not in data:
                continue
            dist, version = _headers(folder)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                if unreadable is not None:
                    reason = f"its entry_points.txt is not UTF-8 text (byte {exc.start + 1})"
                    unreadable.append(Unreadable(dist or stem, path, reason))
                continue
            for name, value in _section(text, group):
                found.append(EntryPoint(name, value, dist, version))
    return found
