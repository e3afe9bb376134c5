"""The `botkit` command line: build, ask, chat, demo and the queue of handovers."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from botkit.channels import get_profile
from botkit.config import Settings
from botkit.consent import ConsentLedger, send_campaign
from botkit.defaults import build, open_bot, open_engine
from botkit.errors import BotkitError, ConfigError
from botkit.index import ProgressFn
from botkit.knowledge import load_knowledge
from botkit.store import ConversationStore
from botkit.types import Reply

app = typer.Typer(
    help="Honest FAQ bots for messengers: answer from curated knowledge, say you are a bot, hand over to people.\n\n"
    "Example: botkit ask knowledge/ \"Wie melde ich meinen Zählerstand?\"",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
console = Console()
err = Console(stderr=True)

KnowledgeArg = Annotated[Path, typer.Argument(help="A knowledge file (.yaml/.csv) or a folder of them.")]
IndexDirOpt = Annotated[
    Path | None, typer.Option("--index-dir", help="Keep index and database here instead of `.botkit/` beside the knowledge.")
]
ChannelOpt = Annotated[str, typer.Option("--channel", "-c", help="whatsapp, messenger, telegram, sms or web.")]
SAMPLE_KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def main() -> None:
    """Entry point that turns botkit errors into a short message and exit status 1."""
    try:
        app()
    except BotkitError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise SystemExit(1) from exc


@contextmanager
def _progress(label: str) -> Iterator[ProgressFn]:
    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _settings(index_dir: Path | None, **overrides: object) -> Settings:
    return Settings.from_env(index_dir=index_dir, **overrides)


@app.command("build")
def build_command(
    knowledge: KnowledgeArg,
    index_dir: IndexDirOpt = None,
    rebuild: Annotated[bool, typer.Option(help="Embed everything again (e.g. after changing the embedder).")] = False,
) -> None:
    """Validate a knowledge base and build its index; only new or changed entries are embedded.

    Example: `botkit build knowledge/`
    """
    with _progress("embedding") as progress:
        kb, report = build(knowledge, _settings(index_dir), rebuild=rebuild, progress=progress)
    if report.generation is None:
        console.print(f"{len(kb.entries)} entries, index up to date (nothing embedded).")
    else:
        console.print(
            f"{len(kb.entries)} entries: {report.added} added, {report.changed} changed, {report.removed} removed; "
            f"{report.embedded_texts} texts embedded."
        )


@app.command()
def ask(
    knowledge: KnowledgeArg,
    question: Annotated[str, typer.Argument(help="What a user writes.")],
    channel: ChannelOpt = "web",
    index_dir: IndexDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (decision, reason, confidence, entries, messages).")] = False,
) -> None:
    """Ask one question as a new user and show the decision, confidence and cited entries.

    Example: `botkit ask knowledge/ "Wie melde ich meinen Zählerstand?" --channel whatsapp --json`
    """
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(index_dir, database_url=f"sqlite:///{tmp}/ask.db")
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
) -> None:
    """Chat with the bot in the terminal (empty line or Ctrl-D ends).

    Example: `botkit chat knowledge/ --channel telegram`
    """
    with _progress("embedding") as progress:
        bot = open_bot(knowledge, _settings(index_dir), progress=progress)
    while True:
        try:
            text = console.input("[bold]you>[/bold] ")
        except EOFError:
            break
        if not text.strip():
            break
        _show(bot.reply(conversation, text, channel))


@app.command()
def handovers(
    knowledge: KnowledgeArg,
    index_dir: IndexDirOpt = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also list released handovers.")] = False,
) -> None:
    """List conversations waiting for a person, with the reason and the last user message.

    Example: `botkit handovers knowledge/`
    """
    store = ConversationStore(open_engine(knowledge, _settings(index_dir)), clock=lambda: 0.0)
    table = Table("id", "conversation", "channel", "reason", "status", "last user message")
    for item in store.queue(status=None if show_all else "open"):
        last = next((t["text"] for t in reversed(item.transcript) if t["role"] == "user"), "")
        table.add_row(str(item.id), item.conversation_id, item.channel, item.reason, item.status, last)
    console.print(table)


DEMO_SCRIPT = (
    "Hallo",
    "Wie melde ich meinen Zählerstand?",
    "Bist du ein Mensch?",
    "Abschlag",
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


def _show(reply: Reply) -> None:
    for message in reply.messages:
        console.print(f"[bold green]bot:[/bold green] {message.text}", highlight=False)
        if message.quick_replies:
            console.print("      " + "  ".join(f"[{q}]" for q in message.quick_replies), highlight=False, markup=False)
    cited = ", ".join(reply.entries) or "-"
    console.print(
        f"[dim]  {reply.decision.value} ({reply.reason}), confidence {reply.confidence:.2f}, entries: {cited}[/dim]",
        highlight=False,
    )


consent_app = typer.Typer(
    help="GDPR consent records: export (Art. 15), erase (Art. 17), print a proof, import a consent given elsewhere.",
    no_args_is_help=True,
)
app.add_typer(consent_app, name="consent")
UserArg = Annotated[str, typer.Argument(help="The user id as the channel gives it (e.g. a WhatsApp number or a Messenger PSID).")]
TopicArg = Annotated[str, typer.Argument(help="A consent topic id from botkit.yaml, e.g. angebote-solar.")]


def _ledger(knowledge: Path, index_dir: Path | None) -> ConsentLedger:
    return ConsentLedger(open_engine(knowledge, _settings(index_dir)), load_knowledge(knowledge).client)


@consent_app.command("export")
def consent_export(knowledge: KnowledgeArg, user: UserArg, index_dir: IndexDirOpt = None) -> None:
    """Print everything stored about a user as JSON (GDPR Art. 15): consents, conversations, handovers, deliveries.

    Example: `botkit consent export knowledge/ 4917612345678 > auskunft.json`
    """
    typer.echo(json.dumps(_ledger(knowledge, index_dir).export(user), ensure_ascii=False, indent=2))


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
    removed = _ledger(knowledge, index_dir).erase(user)
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
    typer.echo(_ledger(knowledge, index_dir).proof(user, topic), nl=False)


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
    event = _ledger(knowledge, index_dir).import_with_proof(user, channel, topic, proof)
    console.print(f"consent #{event.id}: {user} granted {topic} in {channel} (imported, version {event.version}).", highlight=False)


@app.command()
def campaign(
    knowledge: KnowledgeArg,
    topic: TopicArg,
    message: Annotated[str, typer.Argument(help="The marketing text; the objection notice or a STOP hint is added.")],
    index_dir: IndexDirOpt = None,
    whatsapp_template: Annotated[
        str | None, typer.Option(help="Approved WhatsApp template for users outside the 24-hour window.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run/--send", help="Only report who would receive it.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Send a marketing message to every user who consented to TOPIC, and report who cannot be reached and why.

    The command line has no channel sender, so it reports who *would* receive the message;
    the server sends with `botkit.consent.send_campaign(..., send=...)`.
    Example: `botkit campaign knowledge/ angebote-solar "Neu: 5 % Rabatt auf die Montage." --dry-run`
    """
    if not dry_run:
        raise ConfigError(
            "the command line cannot send: it has no channel sender. Run with --dry-run to see who would receive "
            "the message, and send from the server with botkit.consent.send_campaign(..., send=...)."
        )
    report = send_campaign(_ledger(knowledge, index_dir), topic, message, whatsapp_template=whatsapp_template)
    if as_json:
        console.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    table = Table("user", "channel", "result", "why")
    for result in report.results:
        table.add_row(result.user_id, result.channel, result.status, result.reason)
    console.print(table)
    console.print(
        f"dry run: {len(report.delivered)} would receive it, {len(report.skipped)} cannot be reached.", highlight=False
    )
