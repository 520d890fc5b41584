"""File helpers for the model loaders: content hashes, atomic directory swaps."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from pathlib import Path


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(functools.partial(f.read, 1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def replace_dir(source: Path, destination: Path) -> None:
    """Move a directory (or file) into place, replacing an older copy.

    Readers see the old copy or the new one, never a half-written mix.
    """
    old = None
    if destination.exists():
        old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
        os.replace(destination, old)
    os.replace(source, destination)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
