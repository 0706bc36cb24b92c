"""GPU, CPU, RAM and disk as the console samples them (~1/s), with short history sparklines.

Every sample goes into the history (and to the doctor, by the screen); the pane is redrawn when
the screen says (with its other slow figures, like nvitop): the console's redraws take CPU from
the trainer, and a gauge redrawn at every sample tells no more.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label

from emosum_tui.i18n import N_, _, ngettext
from emosum_tui.i18n.phrase import shown
from emosum_tui.monitor.gpu_mapping import GpuSelection
from emosum_tui.monitor.resources import GpuReading, ResourceSample
from emosum_tui.ui.format import human_bytes
from emosum_tui.ui.widgets.live_text import LiveText

if TYPE_CHECKING:
    from emosum_tui.ui.messages import LanguageChanged

HISTORY = 120  # samples kept for the sparklines (about two minutes)
BLOCKS = " ▁▂▃▄▅▆▇█"


def percent_sparkline(values: list[float], width: int) -> str:
    """The last `width` percentages as bars on a fixed 0-100 scale.

    Textual's `Sparkline` scales to the data's own min..max, so a CPU pinned at 100% draws as a
    flat floor; for percentages the absolute scale is the point.
    """
    tail = values[-width:] if width > 0 else []
    return "".join(BLOCKS[min(len(BLOCKS) - 1, max(0, round(v / 100 * (len(BLOCKS) - 1))))] for v in tail)


def _pct(value: float | None) -> str:
    return f"{value:.0f}%" if value is not None else "?"


def gpu_line(gpu: GpuReading, device: str = "") -> str:
    """One GPU's row; `device` is torch's name for it in the run ("cuda:1"), when known."""
    memory = f"{human_bytes(gpu.memory_used)} / {human_bytes(gpu.memory_total)}"
    temp = f"{gpu.temperature_c:.0f}°C" if gpu.temperature_c is not None else "?°C"
    power = f"{gpu.power_w:.0f} W" if gpu.power_w is not None else "? W"
    if gpu.power_limit_w:
        power += f" / {gpu.power_limit_w:.0f} W"
    throttle = ""
    if gpu.throttle_reasons:
        throttle = "  [yellow]" + _("throttled: {reasons}").format(reasons=", ".join(gpu.throttle_reasons)) + "[/yellow]"
    label = f"GPU {gpu.index}" + (f" = {device}" if device else "")
    figures = _("util [b]{util}[/b]  mem {memory}").format(util=_pct(gpu.util_percent), memory=memory)
    return f"{label} {escape(gpu.name)}: {figures}  {temp}  {power}{throttle}"


def gpu_lines(sample: ResourceSample, gpus: GpuSelection) -> list[str]:
    """A row per GPU the run uses (every GPU while that is not known), and how many others the machine has."""
    if not sample.gpus:
        note = shown(sample.gpu_note) or _("no NVIDIA GPU")
        return [f"[b]{escape(note)}[/b]"]
    used = gpus.pick(sample.gpus)
    lines = [gpu_line(gpu, f"cuda:{i}" if gpus.known else "") for i, gpu in enumerate(used)]
    others = len(sample.gpus) - len(used)
    if not used:
        lines.append(_("[b]no GPU for this run[/b] ({setting})").format(setting=f"CUDA_VISIBLE_DEVICES={escape(repr(gpus.visible))}"))
    if others:
        text = ngettext("{n} other GPU on this machine, not this run's", "{n} other GPUs on this machine, not this run's", others)
        lines.append(f"[dim]{text.format(n=others)}[/dim]")
    return lines


def resource_text(sample: ResourceSample, note: str = "", gpus: GpuSelection | None = None) -> str:
    """The readings as lines of markup, the run's GPUs only (`gpus`); `note` (the console's own state,
    such as its frame rate) is a line of its own after them."""
    lines = gpu_lines(sample, gpus or GpuSelection())
    trainer = _("trainer —")
    if sample.trainer_cpu_percent is not None:
        trainer = _("trainer [b]{percent}[/b] ({cores} cores)").format(
            percent=f"{sample.trainer_cpu_percent:.0f}%", cores=f"{sample.trainer_cpu_percent / 100:.1f}")
        if sample.trainer_rss is not None:
            trainer += f", RSS {human_bytes(sample.trainer_rss)}"
        if sample.trainer_gpu_memory is not None:
            trainer += ", " + _("GPU mem {size}").format(size=human_bytes(sample.trainer_gpu_memory))
    system = _("CPU system [b]{percent}[/b] of {n} cores").format(percent=f"{sample.cpu_percent:.0f}%", n=sample.cpu_count)
    lines.append(f"{system}   {trainer}")
    disk = _("disk free {size} at the output dir").format(size=human_bytes(sample.disk_free))
    lines.append(f"RAM {human_bytes(sample.ram_used)} / {human_bytes(sample.ram_total)}   {disk}")
    if note:
        lines.append(f"[dim]{escape(note)}[/dim]")
    return "\n".join(lines)


class ResourcePane(Vertical):
    """Readings as text plus sparklines of system CPU, trainer CPU (100% = all cores), RAM and the run's GPUs' mean utilisation."""

    SERIES = (("cpu", "CPU"), ("trainer", N_("trainer")), ("ram", "RAM"), ("gpu", "GPU"))  # labels: `_()` where drawn

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history: dict[str, deque[float]] = {key: deque(maxlen=HISTORY) for key, _ in self.SERIES}
        self.samples = 0
        self.latest: ResourceSample | None = None  # the sample `draw` shows; None once drawn
        self.drawn: ResourceSample | None = None  # the sample shown now (a language switch redraws it)
        self.off_why = ""
        self.note = ""  # set by the screen: how often the console redraws, when it had to slow down
        self.gpus = GpuSelection()  # the run's GPUs, once its start is read

    def compose(self) -> ComposeResult:
        yield LiveText(_("resources: waiting for the first sample"), id="resource-text")
        for key, label in self.SERIES:
            with Horizontal(classes="spark-row"):
                yield Label(_(label), id=f"spark-label-{key}", classes="spark-label")
                yield LiveText("", fixed_size=True, id=f"spark-{key}", classes="spark")

    def show(self, sample: ResourceSample, gpus: GpuSelection | None = None) -> None:
        """Record `sample` (and the run's GPUs, when given) in the history; `draw` shows it."""
        self.samples += 1
        self.gpus = gpus or self.gpus
        for key, value in self.values(sample, self.gpus).items():
            if value is not None:
                self.history[key].append(value)
        self.latest = sample

    @staticmethod
    def values(sample: ResourceSample, gpus: GpuSelection | None = None) -> dict[str, float | None]:
        used = (gpus or GpuSelection()).pick(sample.gpus)
        return {
            "cpu": sample.cpu_percent,
            "trainer": (sample.trainer_cpu_percent or 0.0) / max(1, sample.cpu_count),
            "ram": 100.0 * sample.ram_used / sample.ram_total if sample.ram_total else 0.0,
            "gpu": sum(g.util_percent or 0.0 for g in used) / len(used) if used else None,
        }

    def draw(self) -> None:
        """Show the latest sample and the sparklines, if a sample came since the last draw."""
        sample = self.latest
        if sample is None or not self.query("#resource-text"):
            return
        self.latest = None
        self.drawn = sample
        self.query_one("#resource-text", LiveText).show(resource_text(sample, self.note, self.gpus))
        for key, value in self.values(sample, self.gpus).items():
            spark = self.query_one(f"#spark-{key}", LiveText)
            if value is None:
                spark.show("[dim]" + _("n/a") + "[/dim]")
            else:
                spark.show(f"{percent_sparkline(list(self.history[key]), spark.size.width - 6)} {value:3.0f}%")

    def show_off(self, why: str) -> None:
        """No sampling in this view (a recorded run, a snapshot): say so instead of waiting."""
        self.off_why = why
        self.draw_off()

    def on_mount(self) -> None:
        self.call_after_refresh(self.draw_off)

    def draw_off(self) -> None:
        texts = self.query("#resource-text")
        if self.off_why and texts:
            texts.first(LiveText).show("[dim]" + _("resources: {why}").format(why=escape(_(self.off_why))) + "[/dim]")

    def on_language_changed(self, message: LanguageChanged) -> None:
        for key, label in self.SERIES:
            self.query_one(f"#spark-label-{key}", Label).update(_(label))
        if self.off_why:
            self.draw_off()
        elif self.drawn is not None:
            self.latest = self.latest or self.drawn
            self.draw()
        else:
            self.query_one("#resource-text", LiveText).show(_("resources: waiting for the first sample"))
