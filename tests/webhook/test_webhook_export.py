"""`botkit export`: a folder that installs on its own, copies only the knowledge, and holds no credentials."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import httpx
import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy.engine import make_url

from botkit import Settings
from botkit.knowledge import load_knowledge
from botkit.policy.intents import IntentMatcher
from botkit.webhook.export import export_bot
from tests.conftest import SAMPLE
from tests.test_embedcache import CountingEmbedder, stored
from tests.webhook.support import WHATSAPP_SECRET, free_port, is_message, recipient, signed, whatsapp_body
from tests.webhook.test_webhook_restart import Process, server_env


def test_export_requirements_never_name_botkit_on_an_index(exported):
    requirements = (exported / "requirements.txt").read_text()
    wheels = list((exported / "wheels").glob("botkit-*.whl"))
    assert len(wheels) == 1 and f"./wheels/{wheels[0].name}[server]" in requirements
    assert "botkit[server]==" not in requirements and "-r requirements.lock" in requirements
    lock = [line for line in (exported / "requirements.lock").read_text().splitlines() if not line.startswith("#")]
    assert lock and all("==" in line for line in lock)
    names = {line.split("==")[0].lower() for line in lock}
    assert {"fastapi", "uvicorn", "chromadb", "sqlalchemy", "pyyaml"} <= names and "botkit" not in names
    assert "langchain" not in names  # no LLM configured: the llm extra stays out
    # every requirement of the shipped wheel is pinned, even where the installed metadata is older (an editable install)
    with zipfile.ZipFile(wheels[0]) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    required = [Requirement(line) for line in Parser().parsestr(metadata).get_all("Requires-Dist")]
    needed = {canonicalize_name(r.name) for r in required if r.marker is None or r.marker.evaluate({"extra": "server"})}
    assert needed - {"botkit"} <= {canonicalize_name(name) for name in names}


def test_a_second_export_from_the_unchanged_tree_reuses_the_wheel_built_before(tmp_path, exported_once, monkeypatch):
    from botkit.webhook import lock

    def no_build(source: Path, dest: Path) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(lock, "build_wheel", no_build)
    [first] = (exported_once / "wheels").glob("botkit-*.whl")
    assert lock.botkit_wheel(tmp_path / "again").read_bytes() == first.read_bytes()


@pytest.mark.slow
def test_export_installs_by_its_dockerfile_steps_in_a_fresh_venv_runs_the_demo_and_answers_a_signed_webhook(tmp_path, exported, recorder):
    """The export folder moved elsewhere, a new venv, the Dockerfile's install steps, `botkit demo` on the sample
    the wheel carries, then real HTTP."""
    folder = shutil.move(str(exported), tmp_path / "elsewhere" / "bot")
    venv = tmp_path / "fresh-venv"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("BOTKIT_")}
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=clean, timeout=300)
    # the Dockerfile's pip steps as written (wheels from the lock, then an install with --no-index), `pip` being the new venv's
    steps = [
        re.sub(r"--mount=\S+ ", "", args)
        for _, op, args in instructions(Path(folder) / "Dockerfile")
        if op == "RUN" and args.split()[-1].startswith("requirements.")
    ]
    assert len(steps) == 2 and "--no-index" in steps[1]
    for step in steps:
        ran = subprocess.run(
            ["bash", "-c", step], cwd=folder, env={**clean, "PATH": f"{venv / 'bin'}:{clean['PATH']}"}, capture_output=True, text=True, timeout=1200
        )
        assert ran.returncode == 0, step + "\n" + ran.stdout[-3000:] + ran.stderr[-3000:]
    shown = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import botkit, sys; print(botkit.__file__)"], cwd=tmp_path, env=clean, capture_output=True, text=True, check=True
    )
    assert str(venv) in shown.stdout  # botkit came from the export's wheel, not from this checkout
    demo = subprocess.run([str(venv / "bin" / "botkit"), "demo"], cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0 and "handover queue" in demo.stdout, demo.stdout[-2000:] + demo.stderr[-2000:]

    port = free_port()
    env = {**clean, **{k: v for k, v in server_env(recorder.url, tmp_path / "fresh.db").items() if k.startswith("BOTKIT_")}}
    server = Process(
        [str(venv / "bin" / "uvicorn"), "app:create", "--factory", "--host", "127.0.0.1", "--port", str(port)], env, Path(folder), tmp_path / "fresh.log", port
    )
    try:
        server.wait_healthy(timeout=180)
        body = whatsapp_body("4915177777777", "wamid.fresh1", "Wie melde ich meinen Zählerstand?")
        response = httpx.post(f"{server.url}/webhook/whatsapp", content=body, headers=signed(body, WHATSAPP_SECRET))
        assert response.status_code == 200 and response.json()["accepted"] == 1
        delivered = recorder.wait_for(1, lambda r: is_message(r) and recipient(r) == "4915177777777", timeout=60)
    finally:
        server.kill(signal.SIGTERM)
        server.proc.wait(timeout=30)
    assert delivered, (tmp_path / "fresh.log").read_text()


@pytest.fixture
def cluttered(tmp_path) -> Path:
    """The sample knowledge folder with secrets, review output, a database, stray files and links out."""
    folder = tmp_path / "kb"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns(".botkit*"))
    outside = tmp_path / "home"
    (outside / ".ssh").mkdir(parents=True)
    (outside / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (folder / ".env").write_text("BOTKIT_WHATSAPP_TOKEN=EAAG-real-token\n")
    (folder / ".review").mkdir()
    (folder / ".review" / "suggested.yaml").write_text("- id: unreviewed\n")
    (folder / "state").mkdir()
    (folder / "state" / "botkit.db").write_bytes(b"SQLite format 3\x00")
    (folder / "notes.txt").write_text("stray-note-call-Anna-q7z\n")
    (folder / "id_rsa").symlink_to(outside / ".ssh" / "id_rsa")
    (folder / "ssh").symlink_to(outside / ".ssh", target_is_directory=True)
    return folder


def test_export_copies_only_the_files_the_knowledge_loader_reads(tmp_path, cluttered, sample_index_dir, embedder):
    from botkit.knowledge import knowledge_files

    shutil.copytree(sample_index_dir, tmp_path / "index")  # the same entries: nothing to embed again
    out = export_bot(cluttered, tmp_path / "out", Settings(index_dir=tmp_path / "index"), embedder=embedder)
    shipped = sorted(p.relative_to(out / "kb").as_posix() for p in (out / "kb").rglob("*") if not p.is_dir())
    expected = sorted([p.relative_to(cluttered).as_posix() for p in knowledge_files(cluttered)] + ["botkit.yaml"])
    assert shipped == expected
    manifest = json.loads((out / "botkit-export.json").read_text())
    assert manifest["files"] == [f"kb/{name}" for name in expected]
    everything = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file() and p.suffix != ".whl")
    for leaked in (b"EAAG-real-token", b"OPENSSH PRIVATE KEY", b"unreviewed", b"stray-note-call-Anna-q7z"):
        assert leaked not in everything
    assert not any(p.is_symlink() for p in out.rglob("*"))


def test_export_manifest_holds_no_credentials_of_an_llm_url(tmp_path, sample_index_dir, embedder):
    index = tmp_path / "index"
    shutil.copytree(sample_index_dir, index)
    settings = Settings(index_dir=index, llm_base_url="https://bot:s3cret-pw@llm.example.net:8443/v1?api_key=sk-live-123")
    out = export_bot(SAMPLE, tmp_path / "out", settings, embedder=embedder)
    manifest = (out / "botkit-export.json").read_text()
    assert "s3cret-pw" not in manifest and "sk-live-123" not in manifest
    assert json.loads(manifest)["settings"]["BOTKIT_LLM_BASE_URL"] == "https://llm.example.net:8443/v1"
    requirements = (out / "requirements.txt").read_text()
    assert "[server,llm]" in requirements  # an LLM is configured: its extra is installed and pinned
    assert "langchain-openai==" in (out / "requirements.lock").read_text().lower()


def instructions(dockerfile: Path) -> list[tuple[str, str, str]]:
    """(stage, instruction, arguments) of each Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", "", dockerfile.read_text())
    out, stage = [], ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        op, _, args = line.strip().partition(" ")
        if op == "FROM":
            stage = args.split(" AS ")[-1] if " AS " in args else args
        out.append((stage, op, args))
    return out


def test_dockerfile_installs_from_wheels_only_as_a_non_root_user_with_a_web_and_a_worker_role(exported):
    steps = instructions(exported / "Dockerfile")
    stages = [args for _, op, args in steps if op == "FROM"]
    assert stages == ["python:3.11-slim AS wheels", "python:3.11-slim AS app", "app AS worker", "app AS web"]
    runs = {stage: [args for s, op, args in steps if s == stage and op == "RUN"] for stage in ("wheels", "app")}
    assert any("pip wheel" in r and "-r requirements.lock" in r for r in runs["wheels"])
    install = [r for r in runs["app"] if "pip install" in r]
    assert len(install) == 1 and "--no-index" in install[0] and "--find-links wheels" in install[0]
    app = [(op, args) for s, op, args in steps if s == "app"]
    assert ("USER", "botkit") in app and "useradd" in " ".join(args for _, args in app)
    copied = " ".join(args for op, args in app if op == "COPY")
    assert ".env" not in copied.replace(".env.example", "") and ".env" in (exported / ".dockerignore").read_text().split()
    assert 'BOTKIT_INDEX_DIR="/app/data"' in " ".join(args for op, args in app if op == "ENV")
    web = {op: args for s, op, args in steps if s == "web"}
    worker = {op: args for s, op, args in steps if s == "worker"}
    assert "/healthz" in web["HEALTHCHECK"] and json.loads(web["CMD"])[:3] == ["botkit", "serve", "/app/knowledge"]
    assert json.loads(worker["CMD"]) == ["botkit", "worker", "/app/knowledge"] and "HEALTHCHECK" not in worker


def compose_schema() -> dict:
    """The Compose specification's JSON schema as check-jsonschema vendors it (licence in the same package)."""
    from importlib.resources import files

    return json.loads(files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text())


def test_compose_file_follows_the_compose_specification_and_keeps_secrets_in_the_env_file(exported):
    compose = yaml.safe_load((exported / "compose.yaml").read_text())
    validator = jsonschema.Draft202012Validator(compose_schema())
    validator.validate(compose)
    assert set(compose["services"]) == {"web", "worker", "postgres", "chroma"}
    web, worker = compose["services"]["web"], compose["services"]["worker"]
    assert web["build"]["target"] == "web" and worker["build"]["target"] == "worker"
    for app in (web, worker):
        assert app["env_file"] == [".env"]
        assert app["environment"]["BOTKIT_CHROMA_URL"] == "http://chroma:8000"
        url = app["environment"]["BOTKIT_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://botkit:${POSTGRES_PASSWORD:?")
        # the URL's driver is one the image installs (plain postgresql:// would need psycopg2, which is not pinned)
        driver = make_url(re.sub(r"\$\{POSTGRES_PASSWORD[^}]*\}", "s3cret", url)).get_dialect().driver
        assert f"\n{driver}==" in "\n" + (exported / "requirements.lock").read_text().lower()
    assert web["environment"]["BOTKIT_WEB_REPLIES"] == "0" and "BOTKIT_WEB_REPLIES" not in worker["environment"]
    assert compose["services"]["chroma"]["image"].startswith("chromadb/chroma:")
    assert "POSTGRES_PASSWORD=" in (exported / ".env.example").read_text()
    # the schema really checks: a misspelt key and a wrong type are refused
    for broken in ({**web, "enviroment": {}}, {**web, "ports": "8080:8080"}):
        assert not validator.is_valid({**compose, "services": {**compose["services"], "web": broken}})


def test_export_ships_the_small_talk_examples_vectors_so_a_start_embeds_none_of_them(exported, embedder):
    assert len(stored(exported / "data", "intent-examples")) == 1
    counting = CountingEmbedder(embedder)
    IntentMatcher(counting, bot_names=(load_knowledge(SAMPLE).client.bot_name,), vectors_dir=exported / "data")
    assert counting.texts == 0
