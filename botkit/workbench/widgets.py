"""Controls for the workshop notebooks: the client's details, their columns, the threshold."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import ipywidgets as widgets
from IPython.display import display

from botkit.channels import CHANNELS
from botkit.evaluation.metrics import CaseResult
from botkit.policy.escalation import Thresholds
from botkit.workbench.charts import png_data_uri
from botkit.workbench.columns import FIELDS, IGNORE, ClientTable
from botkit.workbench.folder import TONES, ImportChoices, Workshop
from botkit.workbench.offers import MARKETING, OfferFinding
from botkit.workbench.overlap import BOTH, KEEP_FIRST, KEEP_SECOND, MERGE, Overlap
from botkit.workbench.session import import_faq
from botkit.workbench.tradeoff import describe, plot_tradeoff, tradeoff_at, tradeoff_curve

NOT_USED = "— not used —"


class MappingEditor:
    """One dropdown per client column, preset with a guessed mapping; read `mapping` after editing."""

    def __init__(self, table: ClientTable, mapping: Mapping[str, str]) -> None:
        self.table = table
        self._dropdowns: dict[str, widgets.Dropdown] = {}
        rows = []
        for column in table.columns:
            sample = next((str(v) for v in table.frame[column] if str(v).strip()), "")
            dropdown = widgets.Dropdown(
                options=[(NOT_USED, IGNORE), *((f, f) for f in FIELDS)],
                value=mapping.get(column, IGNORE),
                layout=widgets.Layout(width="180px"),
            )
            self._dropdowns[column] = dropdown
            label = widgets.HTML(
                f"<b>{html.escape(column)}</b><br><span style='color:#666;font-size:12px'>e.g. {html.escape(sample[:70])}</span>",
                layout=widgets.Layout(width="420px"),
            )
            rows.append(widgets.HBox([label, widgets.HTML("→"), dropdown]))
        self.box = widgets.VBox(rows)

    @property
    def mapping(self) -> dict[str, str]:
        """Client column -> botkit field (`IGNORE` for unused columns), as currently chosen."""
        return {column: dropdown.value for column, dropdown in self._dropdowns.items()}

    def set(self, column: str, field: str) -> None:
        """Choose a field for a column (what a click on the dropdown does)."""
        self._dropdowns[column].value = field

    def show(self) -> None:
        display(self.box)  # type: ignore[no-untyped-call]  # IPython.display is untyped


class ThresholdPicker:
    """A threshold slider with the trade-off in plain words and its chart, updated as it moves."""

    def __init__(self, results: Sequence[CaseResult], limits: Thresholds, threshold: float) -> None:
        self.results = list(results)
        self.limits = limits
        self.curve = tradeoff_curve(self.results, limits)
        self.slider = widgets.FloatSlider(
            value=round(threshold, 2),
            min=0.0,
            max=1.0,
            step=0.01,
            description="Threshold",
            continuous_update=False,
            readout_format=".2f",
            layout=widgets.Layout(width="520px"),
        )
        self.words = widgets.HTML()
        self.chart = widgets.HTML()
        self.slider.observe(lambda _: self.update(), names="value")
        self.box = widgets.VBox([self.slider, self.words, self.chart])
        self.update()

    @property
    def threshold(self) -> float:
        return float(self.slider.value)

    def update(self) -> None:
        at = tradeoff_at(self.results, self.limits, self.threshold)
        self.words.value = (
            "<div style='font-size:15px;background:#eff6ff;border-left:4px solid #2563eb;padding:6px 10px'>"
            f"{html.escape(describe(at, 'en'))}<br>{html.escape(describe(at, 'de'))}</div>"
        )
        self.chart.value = f'<img style="max-width:640px" src="{png_data_uri(plot_tradeoff(self.curve, self.threshold))}">'

    def show(self) -> None:
        display(self.box)  # type: ignore[no-untyped-call]  # IPython.display is untyped


class ClientForm:
    """The client's details as a form, preset from `workshop.yaml`; `save()` writes them back."""

    _TEXT_FIELDS = (
        ("name", "Client"),
        ("bot_name", "Bot name"),
        ("contact", "Contact"),
        ("privacy_url", "Privacy URL"),
        ("business_hours", "Business hours"),
        ("lang", "Language"),
    )

    def __init__(self, workshop: Workshop) -> None:
        self.workshop = workshop
        details = workshop.details
        style = {"description_width": "120px"}
        self._texts = {
            key: widgets.Text(value=str(getattr(details, key)), description=label, style=style, layout=widgets.Layout(width="520px"))
            for key, label in self._TEXT_FIELDS
        }
        self._tone = widgets.ToggleButtons(options=[("du", "du"), ("Sie", "sie")], value=details.tone, description="Tone", style=style)
        self._channels = widgets.SelectMultiple(options=list(CHANNELS), value=tuple(details.channels), description="Channels", style=style, rows=len(CHANNELS))
        self.box = widgets.VBox([*self._texts.values(), self._tone, self._channels])

    def save(self) -> Workshop:
        """Write the form's values to `workshop.yaml` (and `knowledge/botkit.yaml`); returns the updated workshop."""
        values = {key: box.value.strip() for key, box in self._texts.items()}
        tone = self._tone.value if self._tone.value in TONES else self.workshop.details.tone
        details = replace(self.workshop.details, **values, tone=tone, channels=tuple(self._channels.value))
        self.workshop = self.workshop.save(details=details)
        return self.workshop

    def show(self) -> None:
        display(self.box)  # type: ignore[no-untyped-call]  # IPython.display is untyped


class ImportReview:
    """Buttons for the import's suggestions: apply or decline an offer finding; keep A, keep B, merge or keep both of a pair.

    Each click saves the choice in `workshop.yaml` and imports the export again, so
    `knowledge/` follows at once and every later import (and a headless run) applies it.
    """

    def __init__(self, workshop: Workshop, table: ClientTable, offers: Sequence[OfferFinding], overlaps: Sequence[Overlap]) -> None:
        self.workshop = workshop
        self.table = table
        self._states: dict[str, widgets.HTML] = {}
        rows: list[widgets.Widget] = []
        for finding in offers:
            what = "looks like marketing" if finding.kind == MARKETING else "has offer text in its service answer"
            label = f"<b>{html.escape(finding.entry_id)}</b> {what}: {html.escape(', '.join(finding.words))}"
            apply = "Mark as marketing" if finding.kind == MARKETING else "Move to teaser"
            buttons = [
                self._button(apply, self.choose_offer, finding.entry_id, True),
                self._button("Keep as it is", self.choose_offer, finding.entry_id, False),
            ]
            state = workshop.choices.offers.get(finding.entry_id)
            rows.append(self._row(finding.entry_id, label, buttons, "open" if state is None else "applied" if state else "kept"))
        for o in overlaps:
            key = f"{o.first}|{o.second}"
            label = f"{o.kind}: <b>{html.escape(o.first)}</b> / <b>{html.escape(o.second)}</b> ({o.similarity:.2f})"
            buttons = [
                self._button(f"Keep {o.first}", self.choose_overlap, o.first, o.second, KEEP_FIRST),
                self._button(f"Keep {o.second}", self.choose_overlap, o.first, o.second, KEEP_SECOND),
                self._button("Merge", self.choose_overlap, o.first, o.second, MERGE),
                self._button("Keep both", self.choose_overlap, o.first, o.second, BOTH),
            ]
            rows.append(self._row(key, label, buttons, workshop.choices.overlaps.get((o.first, o.second), "open")))
        self.box = widgets.VBox(rows or [widgets.HTML("Nothing to decide.")])

    def choose_offer(self, entry_id: str, apply: bool) -> None:
        """Apply (True) or decline (False) the offer suggestion for an entry, save it and import again."""
        self._save(self.workshop.choices.with_offer(entry_id, apply))
        self._states[entry_id].value = "applied" if apply else "kept"

    def choose_overlap(self, first: str, second: str, choice: str) -> None:
        """Resolve a pair (KEEP_FIRST, KEEP_SECOND, MERGE or BOTH), save it and import again."""
        self._save(self.workshop.choices.with_overlap(first, second, choice))
        self._states[f"{first}|{second}"].value = choice

    def show(self) -> None:
        display(self.box)  # type: ignore[no-untyped-call]  # IPython.display is untyped

    def _save(self, choices: ImportChoices) -> None:
        workshop = self.workshop.save(choices=choices)
        self.workshop, _ = import_faq(workshop, self.table, workshop.mapping_for(self.table), workshop.defaults_for(self.table))

    def _button(self, text: str, action: Callable[..., None], *args: object) -> widgets.Button:
        button = widgets.Button(description=text, layout=widgets.Layout(width="auto"))
        button.on_click(lambda _: action(*args))
        return button

    def _row(self, key: str, label: str, buttons: list[widgets.Button], state: str) -> widgets.HBox:
        self._states[key] = widgets.HTML(state, layout=widgets.Layout(width="90px"))
        return widgets.HBox([widgets.HTML(label, layout=widgets.Layout(width="460px")), *buttons, self._states[key]])
