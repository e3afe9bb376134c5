"""The `botkit` command line: build, ask, chat, demo and the queue of handovers."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from types import ModuleType
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


CasesArg = Annotated[Path, typer.Argument(help="Test cases (.csv or .yaml: question,expected_id,lang).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object with the documented keys.")]


@app.command("eval")
def eval_command(
    knowledge: KnowledgeArg,
    data: Annotated[Path, typer.Argument(help="Cases (.csv/.yaml) or conversation scripts (.yaml with `conversations:`).")],
    calibration: Annotated[Path | None, typer.Option("--calibration", help="A calibration.json from `botkit tune`.")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Escalation threshold in [0, 1] instead of a calibration.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write a per-case CSV and an HTML report with plots here.")] = None,
    index_dir: IndexDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Measure the bot on test cases (accuracy, OOS recall, ranking, latency) or check conversation scripts.

    Every case is a new conversation on a throw-away database.
    Example: `botkit eval knowledge/ evaluations/data/cases.csv --calibration calibration.json --report reports/eval --json`
    """
    from botkit.evaluation import cases as test_data, runner
    from botkit.evaluation.metrics import case_metrics, sweep, threshold_grid

    if calibration is not None and threshold is not None:
        raise ConfigError("give --calibration or --threshold, not both")
    conversations = test_data.is_conversation_file(data)
    items = test_data.load_conversations(data) if conversations else test_data.load_cases(data)
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(index_dir, database_url=f"sqlite:///{tmp}/eval.db", threshold=threshold, calibration=calibration)
        if threshold is not None:  # an explicit threshold beats BOTKIT_CALIBRATION
            settings = replace(settings, calibration=None)
        with _progress("embedding") as progress:
            bot = open_bot(knowledge, settings, progress=progress)
        test_data.check_references(bot.knowledge, items)
        with _progress("evaluating") as progress:
            if conversations:
                played = runner.evaluate_conversations(bot, items, progress=progress)  # type: ignore[arg-type]
                metrics = runner.conversation_metrics(played)
            else:
                results = runner.evaluate_cases(bot, items, progress=progress)  # type: ignore[arg-type]
                metrics = case_metrics(results)
        bot.store.engine.dispose()
    metrics |= {"threshold": bot.limits.threshold, "clarify_margin": bot.limits.clarify_margin}
    if report is not None:
        reports = _report_module()
        if conversations:
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
    if conversations:
        for conversation in played:
            for turn in conversation.turns:
                for check in turn.failed:
                    console.print(f"FAIL {turn.source} {conversation.name!r} step {turn.step}: {check.key} expected "
                                  f"{check.expected!r}, got {check.actual!r} {check.note}".rstrip(), highlight=False, markup=False)
    if report is not None:
        console.print(f"report: {report / 'report.html'}", highlight=False)


@app.command()
def tune(
    knowledge: KnowledgeArg,
    cases: CasesArg,
    write: Annotated[Path, typer.Option("--write", help="Where to write the calibration (JSON).")],
    objective: Annotated[str | None, typer.Option("--objective", help="`balanced`: maximise the mean of in-scope accuracy and OOS recall (default).")] = None,
    min_in_scope_accuracy: Annotated[
        float | None, typer.Option("--min-in-scope-accuracy", help="Instead: the most OOS recall that keeps in-scope accuracy >= X.")
    ] = None,
    index_dir: IndexDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pick the escalation threshold and clarification margin on tuning cases and write them for this embedder.

    Tune on other cases than you evaluate on. `eval` and the bot refuse a calibration made for another embedder.
    Example: `botkit tune knowledge/ evaluations/data/tune-cases.csv --write calibration.json`, then
    `BOTKIT_CALIBRATION=calibration.json botkit chat knowledge/`
    """
    from botkit.defaults import default_embedder
    from botkit.evaluation import calibration as calibrate, cases as test_data, runner

    if objective is not None and objective != "balanced":
        raise ConfigError(f"unknown objective {objective!r}; use --objective balanced or --min-in-scope-accuracy X")
    if objective is not None and min_in_scope_accuracy is not None:
        raise ConfigError("give --objective balanced or --min-in-scope-accuracy, not both")
    items = test_data.load_cases(cases)
    embedder = default_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(_settings(index_dir, database_url=f"sqlite:///{tmp}/tune.db"), calibration=None)
        with _progress("embedding") as progress:
            bot = open_bot(knowledge, settings, embedder=embedder, progress=progress)
        test_data.check_references(bot.knowledge, items)
        with _progress("evaluating") as progress:
            results = runner.evaluate_cases(bot, items, progress=progress)
        bot.store.engine.dispose()
    tuned = calibrate.tune(results, embedder, min_in_scope_accuracy=min_in_scope_accuracy, max_misses=settings.max_misses)
    calibrate.write_calibration(tuned, write)
    if as_json:
        typer.echo(json.dumps(asdict(tuned), ensure_ascii=False))
        return
    console.print(
        f"threshold {tuned.threshold:.3f}, clarify margin {tuned.clarify_margin:.3f} ({tuned.objective}, "
        f"{tuned.embedder_id} {tuned.embedder_version})",
        highlight=False,
    )
    for key, value in tuned.metrics.items():
        console.print(f"  {key}: {'-' if value is None else value}", highlight=False)
    console.print(f"written to {write}; use it with `botkit eval ... --calibration {write}`", highlight=False)


def _report_module() -> ModuleType:
    # matplotlib comes with the `notebooks` extra; only --report needs it.
    try:
        from botkit.evaluation import report
    except ImportError as exc:
        raise ConfigError(f"--report needs matplotlib ({exc}); install it with: pip install 'botkit[notebooks]'") from exc
    return report
