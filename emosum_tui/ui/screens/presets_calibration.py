"""Calibrating a preset from the presets screen: `c` measures a few real steps here, `c` again cancels.

The probe (`figures.calibrate`, a subprocess) runs in a thread worker that posts
`CalibrationUpdate`s; the status line shows its progress, and a measurement that worked makes
the preset's estimate and preflight be worked out again with the measured time per step.
`CalibrationScreen` is the base of the presets screen (which declares the key); kept apart so
the presets screen stays about comparing presets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from emosum_tui.core.presets import Preset
from emosum_tui.i18n import _
from emosum_tui.ui import figures

if TYPE_CHECKING:
    from emosum_tui.ui.preset_figures import FigureStore
    from emosum_tui.ui.widgets.presets_side import PresetsSide


@dataclass
class CalibrationUpdate(Message):
    """Progress of a calibration probe: a line to show, and whether it has finished."""

    name: str
    text: str
    finished: bool = False
    ok: bool = False


class CalibrationScreen(Screen):
    """`c` on the presets screen, which provides the presets, their figures, the side panel and
    the status line."""

    calibrating: str | None = None  # name of the preset being calibrated
    cancel_calibration = False
    changes: dict[str, dict[str, Any]]
    preset_figures: FigureStore
    side: PresetsSide

    @property
    def presets(self) -> list[Preset]:
        raise NotImplementedError

    @property
    def current_saved(self) -> Preset | None:
        raise NotImplementedError

    def _status(self, draw: Callable[[], str] | None) -> None:
        raise NotImplementedError

    def action_calibrate(self) -> None:
        """Measure a few real steps of the selected preset in a probe subprocess; `c` again cancels."""
        if self.calibrating is not None:
            self.cancel_calibration = True
            self._status(lambda: _("calibration: cancelling…"))
            return
        saved = self.current_saved
        if saved is None:
            return
        if self.changes.get(saved.name):
            self.notify(_("Save the edits as a new preset first (w): a calibration measures a preset file."), severity="warning")
            return
        self.calibrating = saved.name
        self.cancel_calibration = False
        self._status(lambda: _("calibrating {preset}: starting the probe…   (c: cancel)").format(preset=saved.name))
        self.calibrate(saved)

    @work(thread=True, group="calibrate", exclusive=True)
    def calibrate(self, preset: Preset) -> None:
        """Run the probe; relay its progress; stop on `c` or when the app closes."""
        worker = get_current_worker()
        outcome = figures.calibrate(
            preset,
            report=lambda text: self.post_message(CalibrationUpdate(preset.name, text)),
            should_stop=lambda: worker.is_cancelled or self.cancel_calibration,
        )
        self.post_message(CalibrationUpdate(preset.name, outcome.text, finished=True, ok=outcome.ok))

    def on_calibration_update(self, message: CalibrationUpdate) -> None:
        self._status(lambda: message.text if message.finished else _("{progress}   (c: cancel)").format(progress=message.text))
        if not message.finished:
            return
        self.calibrating = None
        if message.ok:
            known = self.preset_figures[message.name]
            known.estimate = None
            known.forget_preflight()  # its plan (s/step, memory) is now the measured one
            self.side.redraw()
            self.side.estimate([p for p in self.presets if p.name == message.name])
            self.notify(message.text, title=_("calibration"), timeout=6)
        else:
            self.notify(message.text, title=_("calibration"), severity="warning", timeout=10)
