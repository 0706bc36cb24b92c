"""GPU, CPU, RAM and disk as the console samples them (~1/s), with short history sparklines.

Every sample goes into the history (and to the doctor, by the screen); the pane is redrawn when
the screen says (with its other slow figures, like nvitop): the console's redraws take CPU from
the trainer, and a gauge redrawn at every sample tells no more.
"""

from __future__ import annotations

from collections import deque

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label

from emosum_tui.monitor.gpu_mapping import GpuSelection
from emosum_tui.monitor.resources import GpuReading, ResourceSample
from emosum_tui.ui.format import human_bytes
from emosum_tui.ui.widgets.live_text import LiveText

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
    throttle = f"  [yellow]throttled: {', '.join(gpu.throttle_reasons)}[/yellow]" if gpu.throttle_reasons else ""
    label = f"GPU {gpu.index}" + (f" = {device}" if device else "")
    return f"{label} {escape(gpu.name)}: util [b]{_pct(gpu.util_percent)}[/b]  mem {memory}  {temp}  {power}{throttle}"


def gpu_lines(sample: ResourceSample, gpus: GpuSelection) -> list[str]:
    """A row per GPU the run uses (every GPU while that is not known), and how many others the machine has."""
    if not sample.gpus:
        return [f"[b]{escape(sample.gpu_note or 'no NVIDIA GPU')}[/b]"]
    used = gpus.pick(sample.gpus)
    lines = [gpu_line(gpu, f"cuda:{i}" if gpus.known else "") for i, gpu in enumerate(used)]
    others = len(sample.gpus) - len(used)
    if not used:
        lines.append(f"[b]no GPU for this run[/b] (CUDA_VISIBLE_DEVICES={escape(repr(gpus.visible))})")
    if others:
        lines.append(f"[dim]{others} other GPU{'s' * (others > 1)} on this machine, not this run's[/dim]")
    return lines


def resource_text(sample: ResourceSample, note: str = "", gpus: GpuSelection | None = None) -> str:
    """The readings as lines of markup, the run's GPUs only (`gpus`); `note` (the console's own state,
    such as its frame rate) is a line of its own after them."""
    lines = gpu_lines(sample, gpus or GpuSelection())
    trainer = "trainer —"
    if sample.trainer_cpu_percent is not None:
        trainer = f"trainer [b]{sample.trainer_cpu_percent:.0f}%[/b] ({sample.trainer_cpu_percent / 100:.1f} cores)"
        if sample.trainer_rss is not None:
            trainer += f", RSS {human_bytes(sample.trainer_rss)}"
        if sample.trainer_gpu_memory is not None:
            trainer += f", GPU mem {human_bytes(sample.trainer_gpu_memory)}"
    lines.append(f"CPU system [b]{sample.cpu_percent:.0f}%[/b] of {sample.cpu_count} cores   {trainer}")
    lines.append(f"RAM {human_bytes(sample.ram_used)} / {human_bytes(sample.ram_total)}   disk free {human_bytes(sample.disk_free)} at the output dir")
    if note:
        lines.append(f"[dim]{escape(note)}[/dim]")
    return "\n".join(lines)


class ResourcePane(Vertical):
    """Readings as text plus sparklines of system CPU, trainer CPU (100% = all cores), RAM and the run's GPUs' mean utilisation."""

    SERIES = (("cpu", "CPU"), ("trainer", "trainer"), ("ram", "RAM"), ("gpu", "GPU"))

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history: dict[str, deque[float]] = {key: deque(maxlen=HISTORY) for key, _ in self.SERIES}
        self.samples = 0
        self.latest: ResourceSample | None = None  # the sample `draw` shows; None once drawn
        self.off_why = ""
        self.note = ""  # set by the screen: how often the console redraws, when it had to slow down
        self.gpus = GpuSelection()  # the run's GPUs, once its start is read

    def compose(self) -> ComposeResult:
        yield LiveText("resources: waiting for the first sample", id="resource-text")
        for key, label in self.SERIES:
            with Horizontal(classes="spark-row"):
                yield Label(label, classes="spark-label")
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
        self.query_one("#resource-text", LiveText).show(resource_text(sample, self.note, self.gpus))
        for key, value in self.values(sample, self.gpus).items():
            spark = self.query_one(f"#spark-{key}", LiveText)
            if value is None:
                spark.show("[dim]n/a[/dim]")
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
            texts.first(LiveText).show(f"[dim]resources: {escape(self.off_why)}[/dim]")
