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

from botkit.config import Settings
from botkit.defaults import build, open_bot, open_engine
from botkit.errors import BotkitError
from botkit.index import ProgressFn
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
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
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
