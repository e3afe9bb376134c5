"""Chroma as botkit's `VectorStore` (the default): generations of one collection, swapped atomically.

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
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

if "jsonschema" not in sys.modules:
    # chromadb imports jsonschema (its embedding functions' schemas), and jsonschema, where
    # rfc3987-syntax is installed (JupyterLab brings it), compiles an RFC 3987 Earley grammar at
    # import: about 2 s of every process that opens an index. botkit validates no IRIs; without
    # the module jsonschema just leaves out its "iri" format checks.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
import chromadb  # noqa: E402 - after the guard above
import numpy as np
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from chromadb.config import Settings as ChromaSettings

from botkit.errors import ConfigError, ProviderError
from botkit.protocols import IndexedText, IndexMetadata

COLLECTION = "botkit-faq"
_SPACE: CreateCollectionConfiguration = {"hnsw": {"space": "cosine"}}
_READ_BATCH = 2000  # Chroma hands out Python floats: read in batches to bound the memory


def _chroma_settings() -> ChromaSettings:
    # A fresh object per client: chromadb's HttpClient writes its server address into the
    # settings it is given, which would turn every later on-disk client into a server client.
    return ChromaSettings(anonymized_telemetry=False)


class ChromaCollection:
    """One generation: a Chroma collection whose records carry the entry id, hash and language."""

    def __init__(self, collection: Any) -> None:  # a chromadb Collection
        self._collection = collection

    @property
    def metadata(self) -> IndexMetadata:
        return dict(self._collection.metadata or {})

    def add(self, texts: Sequence[IndexedText], vectors: np.ndarray) -> None:
        self._collection.add(
            ids=[t.id for t in texts],
            embeddings=np.asarray(vectors, dtype=np.float32).tolist(),
            documents=[t.text for t in texts],
            metadatas=[{"entry_id": t.entry_id, "hash": t.hash, "lang": t.lang} for t in texts],
        )

    def delete(self, entry_ids: Sequence[str]) -> None:
        self._collection.delete(where={"entry_id": {"$in": list(entry_ids)}})

    def texts(self) -> list[IndexedText]:
        rows = self._collection.get(include=["metadatas", "documents"])
        return [_text(*row) for row in zip(rows["ids"], rows["documents"], rows["metadatas"], strict=True)]

    def vectors(self) -> tuple[list[IndexedText], np.ndarray]:
        texts: list[IndexedText] = []
        parts: list[np.ndarray] = []
        for offset in range(0, int(self._collection.count()), _READ_BATCH):
            rows = self._collection.get(include=["embeddings", "metadatas", "documents"], limit=_READ_BATCH, offset=offset)
            texts += [_text(*row) for row in zip(rows["ids"], rows["documents"], rows["metadatas"], strict=True)]
            parts.append(np.asarray(rows["embeddings"], dtype=np.float32).reshape(len(rows["ids"]), -1))
        return texts, np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def _text(id_: str, document: str, meta: dict[str, Any]) -> IndexedText:
    return IndexedText(id_, meta["entry_id"], document, meta["hash"], meta.get("lang", ""))


class ChromaStore:
    """Generations as folders under `root`, each a Chroma `PersistentClient` directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def current(self) -> ChromaCollection | None:
        name = self._current_name()
        if name is None:
            return None
        client = chromadb.PersistentClient(path=str(self.root / name), settings=_chroma_settings())
        try:
            return ChromaCollection(client.get_collection(COLLECTION))
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

    def prepare(self, copy_current: bool, metadata: IndexMetadata) -> tuple[str, ChromaCollection]:
        current = self._current_name()
        number = max((int(g.split("-")[1]) for g in self._generations()), default=0) + 1
        name = f"gen-{number:06d}"
        target = self.root / name
        if copy_current and current is not None:
            shutil.copytree(self.root / current, target)
        client = chromadb.PersistentClient(path=str(target), settings=_chroma_settings())
        if copy_current and current is not None:
            return name, ChromaCollection(client.get_collection(COLLECTION))
        return name, ChromaCollection(client.create_collection(COLLECTION, configuration=_SPACE, metadata=dict(metadata)))

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


class ChromaServerStore:
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

    def current(self) -> ChromaCollection | None:
        name = self._current_name()
        return ChromaCollection(self._client.get_collection(name)) if name else None

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

    def prepare(self, copy_current: bool, metadata: IndexMetadata) -> tuple[str, ChromaCollection]:
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
            return name, ChromaCollection(target)
        return name, ChromaCollection(self._client.create_collection(name, configuration=_SPACE, metadata=dict(metadata)))

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
