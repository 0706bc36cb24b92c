"""The keys of a run's screen that look at what its model writes: the Samples pane and Try.

`ModelKeysScreen` is the base of the training screen: `m` swaps the plots (`#training-middle`)
for the Samples pane (the fixed validation rows' predictions at each evaluation, read from the
run's event log) and back; `t` opens the Try screen on the run's model (its final model, else
its latest checkpoint: a running run can be tried at its last checkpoint). Kept apart so the
training screen stays about following the run.
"""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.screen import Screen

from emosum_tui.i18n import N_
from emosum_tui.ui.widgets.samples_pane import SamplesPane

MIDDLE_ID = "training-middle"


class ModelKeysScreen(Screen):
    BINDINGS = [  # noqa: RUF012
        Binding("m", "samples", N_("samples")),
        Binding("t", "try_model", N_("try the model")),
    ]
    run_dir: Path

    def on_mount(self) -> None:
        pane = SamplesPane(self.run_dir, id="samples-pane")
        pane.display = False
        middle = self.query(f"#{MIDDLE_ID}")
        self.mount(pane, after=middle.first()) if middle else self.mount(pane)

    def action_samples(self) -> None:
        """Show the Samples pane in place of the plots, or the plots again."""
        pane = self.query_one(SamplesPane)
        showing = not pane.display
        pane.display = showing
        for middle in self.query(f"#{MIDDLE_ID}"):
            middle.display = not showing
        if showing:
            pane.show_pane()
            pane.focus()
        else:
            pane.hide_pane()

    def action_try_model(self) -> None:
        from emosum_tui.ui.screens.try_screen import TryScreen

        self.app.push_screen(TryScreen(self.run_dir))
