"""Pin what an exported bot installs: the botkit wheel and every dependency as it runs here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from email.parser import Parser
from fnmatch import fnmatch
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import botkit
from botkit.errors import ConfigError


def pinned_requirements(extras: tuple[str, ...], wheel: Path | None = None) -> list[str]:
    """`name==version` of every installed distribution that `botkit[extras]` needs, sorted.

    Walks the installed metadata (with markers evaluated for this interpreter), so the
    lock is exactly the environment the export was made and tested in. botkit's own
    requirements come from `wheel` when given: the ones of the wheel the export ships,
    even where the installed metadata is older than the source tree (an editable install).

    Raises:
        ConfigError: a needed distribution is not installed here.
    """
    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [("botkit", frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        key = (canonicalize_name(name), wanted)
        if key in seen:
            continue
        seen.add(key)
        dist = _installed(name)
        if key[0] != "botkit":
            pins[key[0]] = f"{dist.metadata['Name']}=={dist.version}"
        requires = _wheel_requires(wheel) if key[0] == "botkit" and wheel is not None else dist.requires
        for line in requires or []:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in ("", *wanted)):
                todo.append((req.name, frozenset(req.extras)))
    return [pins[k] for k in sorted(pins)]


def _wheel_requires(wheel: Path) -> list[str]:
    """The `Requires-Dist` lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        name = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1), None)
        if name is None:
            raise ConfigError(f"{wheel.name} has no METADATA: not a wheel")
        metadata = Parser().parsestr(archive.read(name).decode("utf-8"), headersonly=True)
    return metadata.get_all("Requires-Dist") or []


def _installed(name: str) -> Distribution:
    try:
        return distribution(name)
    except PackageNotFoundError as exc:
        raise ConfigError(f"{name} is not installed, so the export cannot pin it; install botkit[server] (and [llm]) first") from exc


def botkit_wheel(dest: Path) -> Path:
    """Put the wheel of the running botkit into `dest`: built from its source tree, or the one it was installed from.

    Raises:
        ConfigError: neither a source tree nor the installed wheel can be found, or the build failed.
    """
    dest.mkdir(parents=True, exist_ok=True)
    source = Path(botkit.__file__).resolve().parents[1]
    if (source / "pyproject.toml").is_file():
        _built_wheel(source, dest)
    else:
        wheel = _installed_from_wheel()
        shutil.copy2(wheel, dest / wheel.name)
    wheels = sorted(dest.glob("botkit-*.whl"))
    if not wheels:
        raise ConfigError(f"no botkit wheel was written to {dest}")
    return wheels[-1]


# Wheels this process built, by their source tree's fingerprint: an unchanged tree is not built again.
_BUILT: dict[tuple[tuple[str, int, int], ...], tuple[Path, int, int]] = {}


def _built_wheel(source: Path, dest: Path) -> None:
    """`build_wheel`, or a copy of the wheel this process already built from the same, unchanged files."""
    key = _fingerprint(source)
    earlier = _BUILT.get(key)
    if earlier is not None and _stat(earlier[0]) == earlier[1:]:
        shutil.copy2(earlier[0], dest / earlier[0].name)
        return
    build_wheel(source, dest)
    wheel = max(dest.glob("botkit-*.whl"), key=lambda p: p.stat().st_mtime_ns, default=None)
    if wheel is not None:
        _BUILT[key] = (wheel, *_stat(wheel))


def _fingerprint(source: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, size, modification time) of every file a wheel build copies from `source`."""
    ignore = _not_source(source)
    found = []
    for folder, dirs, files in os.walk(source):
        skipped = ignore(folder, dirs + files)
        dirs[:] = sorted(d for d in dirs if d not in skipped)
        for name in sorted(set(files) - skipped):
            path = Path(folder, name)
            found.append((str(path.relative_to(source)), *_stat(path)))
    return tuple(found)


def _stat(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return (-1, -1)
    return (info.st_size, info.st_mtime_ns)


def build_wheel(source: Path, dest: Path) -> None:
    """Build botkit's wheel into `dest` from a clean copy of the source tree at `source`.

    Build output left in the checkout (a stale `build/lib`) would otherwise be packed as if it
    were source; the checkout itself is left as it was.

    Raises:
        ConfigError: the build failed.
    """
    with tempfile.TemporaryDirectory(prefix="botkit-wheel-") as scratch:
        tree = Path(scratch) / "source"
        shutil.copytree(source, tree, ignore=_not_source(source))
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest), str(tree)],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise ConfigError(f"building the botkit wheel from {source} failed:\n{result.stderr.strip()}")


# Left out of the copy a wheel is built from: build output, virtual environments, caches, indexes.
_TOP_LEVEL_OUTPUT = ("build", "dist", "venv", "*.egg-info", ".*")
_ANYWHERE_OUTPUT = ("__pycache__", "*.pyc", ".botkit*")


def _not_source(top: Path) -> Callable[[str, list[str]], set[str]]:
    """A `shutil.copytree` ignore for the tree at `top`: the names in a folder that are not source."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        patterns = _ANYWHERE_OUTPUT + (_TOP_LEVEL_OUTPUT if Path(folder) == top else ())
        return {name for name in names if any(fnmatch(name, pattern) for pattern in patterns)}

    return ignore


def _installed_from_wheel() -> Path:
    direct = _installed("botkit").read_text("direct_url.json")
    url = json.loads(direct).get("url", "") if direct else ""
    path = Path(url.removeprefix("file://"))
    if not url.startswith("file://") or path.suffix != ".whl" or not path.is_file():
        raise ConfigError(
            "botkit was installed from an index, not from a wheel or source tree here; "
            "export from a checkout (pip install -e .) or install botkit from its wheel file"
        )
    return path
