"""Chroma as botkit's vector store: generations of one collection, swapped atomically.

A build writes a new *generation* and publishes it only when complete, so a build that is
killed at any point leaves the previous generation answering:

- on disk (`PersistentClient`), a generation is a folder; the next one starts as a copy
  of the current folder and `CURRENT` names the live one (replaced with `os.replace`);
- on a `chroma run` server (`HttpClient`), a generation is a collection; the next one
  starts as a copy of the current records and a pointer collection's metadata names the
  live one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings

from botkit.errors import ConfigError, ProviderError

COLLECTION = "botkit-faq"
_SPACE = {"hnsw": {"space": "cosine"}}


def _chroma_settings() -> ChromaSettings:
    # A fresh object per client: chromadb's HttpClient writes its server address into the
    # settings it is given, which would turn every later on-disk client into a server client.
    return ChromaSettings(anonymized_telemetry=False)


class LocalGenerations:
    """Generations as folders under `root`, each a Chroma `PersistentClient` directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def current(self) -> Any | None:
        name = self._current_name()
        if name is None:
            return None
        client = chromadb.PersistentClient(path=str(self.root / name), settings=_chroma_settings())
        try:
            return client.get_collection(COLLECTION)
        except Exception as exc:  # chroma raises several types for a missing collection
            raise ProviderError(f"index {self.root / name} is damaged ({exc}); run `botkit build --rebuild`") from exc

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".build.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def prepare(self, copy_current: bool, metadata: dict[str, Any]) -> tuple[str, Any]:
        current = self._current_name()
        number = max((int(g.split("-")[1]) for g in self._generations()), default=0) + 1
        name = f"gen-{number:06d}"
        target = self.root / name
        if copy_current and current is not None:
            shutil.copytree(self.root / current, target)
        client = chromadb.PersistentClient(path=str(target), settings=_chroma_settings())
        if copy_current and current is not None:
            return name, client.get_collection(COLLECTION)
        return name, client.create_collection(COLLECTION, configuration=_SPACE, metadata=metadata)

    def prune(self) -> None:
        """Delete generations left by killed builds and all but the one before the live one.

        The one before stays because a bot process may still be reading it.
        """
        current = self._current_name()
        older = [g for g in self._generations() if current is not None and g < current]
        keep = {current, *older[-1:]}
        for name in self._generations():
            if name not in keep:
                shutil.rmtree(self.root / name, ignore_errors=True)

    def publish(self, name: str) -> None:
        pointer = self.root / "CURRENT"
        tmp = self.root / "CURRENT.tmp"
        with open(tmp, "w") as handle:
            handle.write(name)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, pointer)

    def _current_name(self) -> str | None:
        pointer = self.root / "CURRENT"
        if not pointer.exists():
            return None
        name = pointer.read_text().strip()
        return name if (self.root / name).is_dir() else None

    def _generations(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if re.fullmatch(r"gen-\d+", p.name))


class ServerGenerations:
    """Generations as collections on a `chroma run` server shared by several bot processes."""

    def __init__(self, url: str, prefix: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ConfigError(f"chroma URL {url!r} must look like http://127.0.0.1:8000")
        try:
            self._client = chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=_chroma_settings(),
            )
        except Exception as exc:
            raise ProviderError(f"cannot reach the Chroma server at {url} ({exc}); is `chroma run` up?") from exc
        self._prefix = re.sub(r"[^a-zA-Z0-9._-]", "-", prefix).strip("-._") or "botkit"

    def current(self) -> Any | None:
        name = self._current_name()
        return self._client.get_collection(name) if name else None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        # One builder at a time is the deployment's job in server mode (build, then serve).
        yield

    def prune(self) -> None:
        """Delete every generation but the live one and the one before it."""
        current = self._current_name()
        names = self._generations()
        older = [n for n in names if current is not None and n < current]
        keep = {current, *older[-1:]}
        for name in names:
            if name not in keep:
                self._client.delete_collection(name)

    def prepare(self, copy_current: bool, metadata: dict[str, Any]) -> tuple[str, Any]:
        current = self._current_name()
        number = max((int(n.rsplit("-", 1)[1]) for n in self._generations()), default=0) + 1
        name = f"{self._prefix}-gen-{number:06d}"
        if copy_current and current is not None:
            source = self._client.get_collection(current)
            target = self._client.create_collection(name, configuration=_SPACE, metadata=source.metadata)
            batch = 1000
            for offset in range(0, source.count(), batch):
                rows = source.get(include=["embeddings", "documents", "metadatas"], limit=batch, offset=offset)
                target.add(
                    ids=rows["ids"],
                    embeddings=rows["embeddings"],
                    documents=rows["documents"],
                    metadatas=rows["metadatas"],
                )
            return name, target
        return name, self._client.create_collection(name, configuration=_SPACE, metadata=metadata)

    def publish(self, name: str) -> None:
        pointer = self._client.get_or_create_collection(f"{self._prefix}-current", metadata={"generation": name})
        pointer.modify(metadata={"generation": name})

    def _generations(self) -> list[str]:
        pattern = rf"{re.escape(self._prefix)}-gen-\d+"
        return sorted(c.name for c in self._client.list_collections() if re.fullmatch(pattern, c.name))

    def _current_name(self) -> str | None:
        try:
            pointer = self._client.get_collection(f"{self._prefix}-current")
        except Exception:  # chroma raises NotFoundError or ValueError depending on version
            return None
        return (pointer.metadata or {}).get("generation")


Generations = LocalGenerations | ServerGenerations
