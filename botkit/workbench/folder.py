"""One workshop folder per client: `workshop.yaml`, the client's inputs, knowledge, cases, reports and export.

```python
workshop = Workshop.create("acme-workshop", client="ACME Fitness", tone="du")   # `botkit workshop new`
workshop = Workshop.open("acme-workshop")                                     # every notebook's first step
workshop.faq_export(), workshop.chat_log(), workshop.knowledge, workshop.reports
```

`workshop.yaml` holds what the consultant decided (client details, tone, consent topics,
the column mapping of the FAQ export) so that every later notebook reuses it instead of
guessing again. The knowledge folder gets a `botkit.yaml` written from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from botkit.channels import CHANNELS
from botkit.config import Settings
from botkit.errors import ConfigError
from botkit.knowledge import CLIENT_FILE
from botkit.textfile import read_text_file
from botkit.types import Client, Topic
from botkit.workbench.columns import FIELDS, ClientTable, guess_mapping
from botkit.workbench.gaps import message_column
from botkit.workbench.text import normalize_name

WORKSHOP_FILE = "workshop.yaml"
FOLDERS = ("inputs", "knowledge", "cases", "reports", "export")
NOTEBOOKS = (
    "01-import-and-check.ipynb",
    "02-try-the-bot.ipynb",
    "03-find-the-gaps.ipynb",
    "04-set-the-threshold.ipynb",
    "05-consent-and-campaigns.ipynb",
    "06-hand-over.ipynb",
    "07-review-real-questions.ipynb",
)
TONES = ("du", "sie")
GITIGNORE = """\
# Written by `botkit workshop new`: the client's own files and chat transcripts stay out of git.
inputs/
transcripts/
reports/transcripts/
.botkit/
*.db
.ipynb_checkpoints/
"""
_TABLES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".yaml", ".yml"}
_CASE_COLUMNS = {"question", "expectedid"}


@dataclass(frozen=True)
class ClientDetails:
    """Who the bot speaks for, as agreed in the workshop (written to the knowledge base's `botkit.yaml`)."""

    name: str = ""
    bot_name: str = "Bot"
    tone: str = "sie"  # how the client addresses customers in German: "du" or "sie"
    lang: str = "de"  # the language of the client's customers and of the report
    contact: str = ""  # phone or e-mail for people, named when the bot hands over
    privacy_url: str = ""
    business_hours: str = ""  # e.g. "Mo–Fr 8–18 Uhr"
    channels: tuple[str, ...] = ("whatsapp", "web")
    topics: tuple[Topic, ...] = ()  # marketing consent topics
    proposed: tuple[str, ...] = ()  # ids of topics drafted by the workbench whose wording is still to approve

    def __post_init__(self) -> None:
        if self.tone not in TONES:
            raise ConfigError(f"tone {self.tone!r} is unknown; use 'du' or 'sie'")
        unknown = [c for c in self.channels if c not in CHANNELS]
        if unknown:
            raise ConfigError(f"unknown channel(s) {', '.join(unknown)}; known: {', '.join(CHANNELS)}")

    def client(self) -> Client:
        """The core's `Client` for these details."""
        return Client(name=self.name or Client.name, bot_name=self.bot_name, contact=self.contact, privacy_url=self.privacy_url, topics=self.topics)


@dataclass(frozen=True)
class SavedMapping:
    """The column mapping chosen for one FAQ export, with the values used where a column is missing."""

    file: str
    columns: dict[str, str]  # client column -> botkit field ("" = not used)
    defaults: dict[str, str] = field(default_factory=lambda: {"lang": "de", "scope": "service", "topic": "allgemein"})


OVERLAP_CHOICES = ("keep-first", "keep-second", "merge", "both")


@dataclass(frozen=True)
class ImportChoices:
    """The consultant's answers to the import's suggestions; every import applies them again."""

    offers: dict[str, bool] = field(default_factory=dict)  # entry id -> True: apply the offer suggestion, False: declined
    overlaps: dict[tuple[str, str], str] = field(default_factory=dict)  # (first, second) entry ids -> one of OVERLAP_CHOICES

    def __post_init__(self) -> None:
        wrong = sorted({c for c in self.overlaps.values() if c not in OVERLAP_CHOICES})
        if wrong:
            raise ConfigError(f"unknown choice(s) for a duplicate or conflict: {', '.join(wrong)}; use one of {', '.join(OVERLAP_CHOICES)}")

    def with_offer(self, entry_id: str, apply: bool) -> ImportChoices:
        return replace(self, offers={**self.offers, entry_id: apply})

    def with_overlap(self, first: str, second: str, choice: str) -> ImportChoices:
        return replace(self, overlaps={**self.overlaps, (first, second): choice})


@dataclass(frozen=True)
class Workshop:
    """A workshop folder and its `workshop.yaml`; paths and inputs are derived from `root`."""

    root: Path
    details: ClientDetails
    mapping: SavedMapping | None = None
    files: dict[str, str] = field(default_factory=dict)  # role ("faq", "chat_log", "cases") -> file name in inputs/
    added_paraphrases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # entry id -> phrasings added in the simulator
    choices: ImportChoices = field(default_factory=ImportChoices)  # offers and overlaps decided in notebook 1

    @classmethod
    def create(cls, folder: str | Path, *, client: str = "", tone: str = "", bot_name: str = "", sample: bool = False) -> Workshop:
        """Make a workshop folder: sub-folders, `workshop.yaml`, `.gitignore` and the workshop notebooks.

        An existing `workshop.yaml` is kept (its details are only filled in where given);
        notebooks already there are not overwritten, so the consultant's edits survive.
        `sample` copies the sample client's export and chat log into `inputs/`.
        """
        root = Path(folder)
        if root.exists() and not root.is_dir():
            raise ConfigError(f"{root} is a file; choose a folder name for the workshop")
        root.mkdir(parents=True, exist_ok=True)
        for name in FOLDERS:
            (root / name).mkdir(exist_ok=True)
        if not (root / ".gitignore").exists():
            (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        for name in NOTEBOOKS:
            target = root / name
            if not target.exists():
                target.write_bytes(resources.files("botkit.workbench").joinpath("notebooks", name).read_bytes())
        if sample:
            for item in resources.files("botkit.workbench").joinpath("sample").iterdir():
                if item.name.endswith(".csv") and not (root / "inputs" / item.name).exists():
                    (root / "inputs" / item.name).write_bytes(item.read_bytes())
        workshop = cls.open(root) if (root / WORKSHOP_FILE).exists() else cls(root, ClientDetails())
        changes: dict[str, Any] = {}
        if client:
            changes["name"] = client
        if bot_name:
            changes["bot_name"] = bot_name
        if tone:
            changes["tone"] = tone.lower()
        if sample and not (client or workshop.details.name):
            changes["name"] = "Stadtwerke Lindenau"
        return workshop.save(details=replace(workshop.details, **changes))

    @classmethod
    def open(cls, folder: str | Path) -> Workshop:
        """Read a workshop folder made by `botkit workshop new`."""
        root = Path(folder)
        file = root / WORKSHOP_FILE
        if not file.is_file():
            raise ConfigError(
                f"{root} is not a workshop folder (no {WORKSHOP_FILE}); create one with `botkit workshop new {root}` and set WORKSHOP in the first cell to it"
            )
        try:
            data = yaml.safe_load(read_text_file(file).text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file} is not valid YAML ({exc}); fix it or delete it and run `botkit workshop new` again") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{file} must be a mapping with 'client', 'topics' and 'mapping'")
        return cls(
            root=root,
            details=_details(data, file),
            mapping=_mapping(data.get("mapping"), file),
            files={str(k): str(v) for k, v in (data.get("inputs") or {}).items() if v},
            added_paraphrases={str(k): tuple(map(str, v)) for k, v in (data.get("added_paraphrases") or {}).items()},
            choices=_choices(data.get("choices"), file),
        )

    # Paths ---------------------------------------------------------------------------------
    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def knowledge(self) -> Path:
        return self.root / "knowledge"

    @property
    def cases(self) -> Path:
        return self.root / "cases"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def export(self) -> Path:
        return self.root / "export"

    @property
    def index_dir(self) -> Path:
        """The index of the workshop's knowledge base (rebuilt incrementally after every fix)."""
        return self.root / ".botkit"

    @property
    def saved_cases(self) -> Path:
        """Test cases saved in the simulator (`question,expected_id,lang`)."""
        return self.cases / "cases.csv"

    @property
    def calibration(self) -> Path:
        return self.reports / "calibration.json"

    @property
    def knowledge_file(self) -> Path:
        """The entries imported from the client's export (notebook 1 writes it)."""
        return self.knowledge / "faq.yaml"

    # Inputs --------------------------------------------------------------------------------
    def faq_export(self) -> Path:
        """The client's FAQ export: the one named in `workshop.yaml`, else the one spreadsheet/CSV/YAML in `inputs/`."""
        return self._input("faq", "the FAQ export (a spreadsheet, CSV or YAML with questions and answers)")

    def chat_log(self) -> Path:
        """The customer questions: the file in `inputs/` whose column looks like customer messages."""
        return self._input("chat_log", "a chat log or e-mail export (a CSV with one column of customer messages)")

    def labelled_cases(self) -> Path | None:
        """A CSV of labelled cases (`question,expected_id,lang`) in `inputs/`, if the client brought one."""
        named = self.files.get("cases")
        if named:
            return self._named(named)
        found = self._classified().get("cases", [])
        return found[0] if len(found) == 1 else None

    def case_files(self) -> list[Path]:
        """Labelled cases from `inputs/` and those saved in the simulator, whichever exist."""
        return [p for p in (self.labelled_cases(), self.saved_cases) if p is not None and p.is_file()]

    def _input(self, role: str, what: str) -> Path:
        named = self.files.get(role)
        if named:
            return self._named(named)
        found = self._classified().get(role, [])
        if len(found) == 1:
            return found[0]
        if not found:
            raise ConfigError(f"no {what} in {self.inputs}; copy the client's file there and run the cell again")
        names = ", ".join(p.name for p in found)
        raise ConfigError(f"{self.inputs} holds several files that could be {what}: {names}; name one in {WORKSHOP_FILE} under inputs: {role}: FILE")

    def _named(self, name: str) -> Path:
        path = self.inputs / name
        if not path.is_file():
            raise ConfigError(f"{WORKSHOP_FILE} names {name!r}, but {path} does not exist; copy it there or fix the name")
        return path

    def _classified(self) -> dict[str, list[Path]]:
        roles: dict[str, list[Path]] = {}
        if not self.inputs.is_dir():
            return roles
        for path in sorted(self.inputs.iterdir()):
            if path.is_file() and path.suffix.lower() in _TABLES and not path.name.startswith((".", "~$")):
                role = input_role(path)
                if role:
                    roles.setdefault(role, []).append(path)
        return roles

    # Saving --------------------------------------------------------------------------------
    def mapping_for(self, table: ClientTable) -> dict[str, str]:
        """The saved mapping for this export, else a guess (saved by `save(mapping=...)` once chosen)."""
        if self.mapping is not None and self.mapping.file == table.name and set(self.mapping.columns) == set(table.columns):
            return dict(self.mapping.columns)
        return guess_mapping(table.columns)

    def defaults_for(self, table: ClientTable) -> dict[str, str]:
        """The values for fields no column holds (language, scope, topic), as saved or the client's language."""
        if self.mapping is not None and self.mapping.file == table.name:
            return dict(self.mapping.defaults)
        return {"lang": self.details.lang, "scope": "service", "topic": "allgemein"}

    def save(
        self,
        *,
        details: ClientDetails | None = None,
        mapping: SavedMapping | None = None,
        added_paraphrases: Mapping[str, Sequence[str]] | None = None,
        choices: ImportChoices | None = None,
    ) -> Workshop:
        """Write `workshop.yaml` (and the knowledge base's `botkit.yaml`) with the given parts replaced."""
        unknown = sorted({f for f in (mapping.columns.values() if mapping else ()) if f and f not in FIELDS})
        if unknown:
            raise ConfigError(f"the mapping uses unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
        new = replace(
            self,
            details=details or self.details,
            mapping=mapping or self.mapping,
            added_paraphrases={k: tuple(v) for k, v in (added_paraphrases if added_paraphrases is not None else self.added_paraphrases).items()},
            choices=choices or self.choices,
        )
        new.root.mkdir(parents=True, exist_ok=True)
        (new.root / WORKSHOP_FILE).write_text(_HEADER + yaml.safe_dump(new._data(), allow_unicode=True, sort_keys=False, width=100), encoding="utf-8")
        new.write_client_file()
        return new

    def write_client_file(self) -> Path:
        """Write the knowledge base's `botkit.yaml` from the client details."""
        d = self.details
        client: dict[str, Any] = {"name": d.name or Client.name, "bot_name": d.bot_name, "tone": d.tone}
        for key in ("contact", "privacy_url", "business_hours"):
            if getattr(d, key):
                client[key] = getattr(d, key)
        data: dict[str, Any] = {"client": client}
        if d.topics:
            data["topics"] = [_topic_data(t) for t in d.topics]
        self.knowledge.mkdir(parents=True, exist_ok=True)
        path = self.knowledge / CLIENT_FILE
        header = f"# Written from ../{WORKSHOP_FILE} by the botkit workbench; edit the details there (or in notebook 1).\n"
        path.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8")
        return path

    def settings(self, **overrides: Any) -> Settings:
        """Settings for this workshop: its own index, the agreed calibration once notebook 4 wrote it."""
        values: dict[str, Any] = {"index_dir": self.index_dir}
        if self.calibration.is_file():
            values["calibration"] = self.calibration
        values.update(overrides)
        return Settings.from_env(**values)

    def _data(self) -> dict[str, Any]:
        d = self.details
        data: dict[str, Any] = {
            "client": {
                "name": d.name,
                "bot_name": d.bot_name,
                "tone": d.tone,
                "lang": d.lang,
                "contact": d.contact,
                "privacy_url": d.privacy_url,
                "business_hours": d.business_hours,
                "channels": list(d.channels),
            },
            "topics": [{**_topic_data(t), **({"proposed": True} if t.id in d.proposed else {})} for t in d.topics],
            "inputs": dict(self.files),
        }
        if self.mapping is not None:
            data["mapping"] = {"file": self.mapping.file, "columns": dict(self.mapping.columns), "defaults": dict(self.mapping.defaults)}
        if self.added_paraphrases:
            data["added_paraphrases"] = {k: list(v) for k, v in self.added_paraphrases.items()}
        if self.choices.offers or self.choices.overlaps:
            data["choices"] = {
                "offers": dict(self.choices.offers),
                "overlaps": [{"first": a, "second": b, "choice": c} for (a, b), c in self.choices.overlaps.items()],
            }
        return data


def input_role(path: Path) -> str | None:
    """What a file in `inputs/` is: "faq", "chat_log", "cases" or None (not a table botkit reads)."""
    if path.suffix.lower() in {".xlsx", ".xlsm", ".yaml", ".yml"}:
        return "faq"
    line = read_text_file(path).text.split("\n", 1)[0]
    header = [h.strip().strip('"') for h in line.replace(";", ",").replace("\t", ",").split(",")]
    if _CASE_COLUMNS <= {normalize_name(h) for h in header}:
        return "cases"
    if {"question", "answer"} <= set(guess_mapping(header).values()):
        return "faq"
    return "chat_log" if message_column(header) is not None else None


_HEADER = (
    "# The workshop's decisions (botkit workbench). Notebook 1 fills most of it; every notebook reads it.\n"
    "# The client's files go into inputs/; name one under `inputs:` (faq, chat_log, cases) when there are several.\n"
    "# choices: offers (entry id: true = apply the marketing/teaser suggestion, false = keep as it is) and overlaps\n"
    "# (keep-first, keep-second, merge, both), made with the buttons in notebook 1 and applied on every import.\n"
)


def _topic_data(topic: Topic) -> dict[str, Any]:
    return {"id": topic.id, "title": dict(topic.title), "description": dict(topic.description), "version": topic.version}


def _details(data: dict[str, Any], file: Path) -> ClientDetails:
    raw = data.get("client") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: 'client' must be a mapping (name, bot_name, tone, ...)")
    topics: list[Topic] = []
    proposed: list[str] = []
    for i, item in enumerate(data.get("topics") or []):
        try:
            topics.append(Topic(str(item["id"]), dict(item["title"]), dict(item["description"]), str(item["version"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{file}: topics[{i}] needs id, title, description and version ({exc})") from exc
        if item.get("proposed"):
            proposed.append(str(item["id"]))
    defaults = ClientDetails()
    return ClientDetails(
        name=str(raw.get("name") or ""),
        bot_name=str(raw.get("bot_name") or defaults.bot_name),
        tone=str(raw.get("tone") or defaults.tone).lower(),
        lang=str(raw.get("lang") or defaults.lang),
        contact=str(raw.get("contact") or ""),
        privacy_url=str(raw.get("privacy_url") or ""),
        business_hours=str(raw.get("business_hours") or ""),
        channels=tuple(raw.get("channels") or defaults.channels),
        topics=tuple(topics),
        proposed=tuple(proposed),
    )


def _choices(raw: Any, file: Path) -> ImportChoices:
    if not raw:
        return ImportChoices()
    try:
        offers = {str(k): bool(v) for k, v in (raw.get("offers") or {}).items()}
        overlaps = {(str(o["first"]), str(o["second"])): str(o["choice"]) for o in raw.get("overlaps") or []}
    except (AttributeError, KeyError, TypeError) as exc:
        raise ConfigError(f"{file}: 'choices' needs 'offers' (entry id: true/false) and 'overlaps' (a list of first, second, choice) ({exc})") from exc
    try:
        return ImportChoices(offers, overlaps)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from exc


def _mapping(raw: Any, file: Path) -> SavedMapping | None:
    if not raw:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict):
        raise ConfigError(f"{file}: 'mapping' needs 'file' and 'columns' (client column: botkit field)")
    defaults = {"lang": "de", "scope": "service", "topic": "allgemein", **{str(k): str(v) for k, v in (raw.get("defaults") or {}).items()}}
    return SavedMapping(str(raw.get("file", "")), {str(k): str(v or "") for k, v in raw["columns"].items()}, defaults)
