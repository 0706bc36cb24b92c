"""Measuring this machine: the throughput prior and the calibration at a preset's exact shape.

The console never imports torch, so measuring happens in a probe subprocess
(`python -m emosum_tui.probe.matmul` for the prior, `python -m emosum_tui.probe.calibrate`
for a few real micro-batches of the preset's shape on a config-built model with random
weights: same speed as the real weights, no download). Results are cached in
`cache_dir()/calibration.json`, keyed by the machine (hostname, CPU model, GPU names, torch
version, cores) and, for a calibration, the preset's shape: a figure holds only where it was measured.
A preset with no calibration of its own uses one of the same speed (`calibration_match`): the same
shape, batch and switches, lengths close enough, whatever its learning rate, epochs or row count.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.core.atomic import write_json_atomic
from emosum_tui.core.model_shapes import shape_for
from emosum_tui.core.paths import cache_dir
from emosum_tui.core.probe_job import ProbeJob, ProbeProgress
from emosum_tui.core.run_facts import known_fields
from emosum_tui.core.token_stats import TokenLengths

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

CACHE_FILE = "calibration.json"
CALIBRATION_MICRO_BATCHES = 8  # at most: the probe's time budget stops a slow shape after one or two
CALIBRATION_ROWS_SAMPLED = 256  # (source, target) lengths handed to the probe to draw batches from
CALIBRATION_GENERATE_TOKENS = 8  # tokens generated to time a decode step (the per-token cost is flat)
DEVICE_PROBE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class DeviceProfile:
    """The prior: how fast this machine multiplies matrices, moves memory and writes to disk."""

    device: str
    matmul_flops: float
    memory_bps: float
    disk_bps: float
    threads: int = 0

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> DeviceProfile:
        """A profile from a probe's result or the cache (keys it does not know are left out)."""
        return cls(**known_fields(cls, body))


@dataclass(frozen=True)
class CalibrationResult:
    """A few real steps at a preset's exact shape, timed (warm-up excluded)."""

    device: str
    micro_batch_seconds: float  # forward + backward of one micro-batch
    micro_flops: float  # model FLOPs of the micro-batches measured (to rescale to other padding)
    update_seconds: float  # gradient clip + optimizer step + scheduler + zero_grad
    step_seconds: float  # grad_accum x micro-batch + update
    eval_batch_seconds: float  # loss forward of one eval batch, no grad
    eval_flops: float
    decode_token_seconds: float  # one generated token for one eval batch (0 when not measured)
    generate_fixed_seconds: float  # encoder + first token of a generate call
    startup_seconds: float  # spawn, import torch + transformers, build the model
    disk_bps: float = 0.0
    warmup_seconds: float = 0.0  # the first step's extra time (allocation, lazy initialisation)
    micro_batches: int = 0
    padded_source: float = 0.0
    padded_target: float = 0.0
    measured_at: float = 0.0
    peak_memory_bytes: int = 0  # the training steps' peak (GPU allocator, else the probe's RSS)
    device_memory_bytes: int = 0  # what there is to fit into

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> CalibrationResult:
        return cls(**known_fields(cls, body))


@dataclass(frozen=True)
class CalibrationSpec:
    """What the probe builds and runs; written as JSON for the subprocess to read."""

    shape: dict[str, Any]  # ModelShape.as_dict()
    tied_lm_head: bool
    batch_size: int
    grad_accum: int
    optimizer: str
    precision: str
    gradient_checkpointing: bool
    learning_rate: float
    rows: list[tuple[int, int]]  # (source, target) token lengths to draw batches from
    eval_batch_size: int
    eval_rows: list[tuple[int, int]]
    generate_tokens: int  # 0 = do not measure generation
    num_beams: int = 1
    micro_batches: int = CALIBRATION_MICRO_BATCHES
    warmup: int = 1
    seed: int = 42
    budget_seconds: float = 15.0  # stop measuring micro-batches after this long (at least one)
    compile: str = "off"  # the preset's train.compile ("auto" resolves on the probe's device)
    tf32: bool = True
    fused_optimizer: bool = True
    pad_to_multiple_of: int = 0  # 0 = 8 on a GPU, none on a CPU

    @classmethod
    def read(cls, path: Path) -> CalibrationSpec:
        """The spec a launcher wrote as JSON (lists back to the tuples they were)."""
        body = json.loads(Path(path).read_text(encoding="utf-8"))
        body["rows"] = [tuple(r) for r in body["rows"]]
        body["eval_rows"] = [tuple(r) for r in body["eval_rows"]]
        return cls(**body)

    def key(self) -> str:
        body = asdict(self)
        for name in ("micro_batches", "warmup", "budget_seconds", "learning_rate"):  # no effect on speed
            body.pop(name)
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# The machine and the cache.


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _gpu_names() -> list[str]:
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            names = []
            for index in range(pynvml.nvmlDeviceGetCount()):
                name = pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(index))
                names.append(name.decode() if isinstance(name, bytes) else str(name))
            return names
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no NVML, no driver, no permission: no GPU to key on
        return []


def _torch_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return "no-torch"


def machine_key() -> str:
    """Hostname + CPU model + GPU names + torch version: a calibration is valid only here."""
    parts = [platform.node(), _cpu_model(), ",".join(_gpu_names()), _torch_version(), str(os.cpu_count())]
    return "|".join(parts)


def _cache_path() -> Path:
    return cache_dir() / CACHE_FILE


def _read_cache() -> dict[str, Any]:
    try:
        body = json.loads(_cache_path().read_text(encoding="utf-8"))
        return body if isinstance(body, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def _write_cache(key: str, value: dict[str, Any]) -> None:
    write_json_atomic(_cache_path(), {**_read_cache(), key: value})


def _device_key() -> str:
    return "device|" + machine_key()


def _calibration_key(spec: CalibrationSpec) -> str:
    return "calibration|" + machine_key() + "|" + spec.key()


def cached_device_profile() -> DeviceProfile | None:
    body = _read_cache().get(_device_key())
    return DeviceProfile.from_dict(body) if body else None


def store_device_profile(profile: DeviceProfile) -> None:
    """Keep this machine's throughput prior (what `measure_device` does after a probe)."""
    _write_cache(_device_key(), asdict(profile))


def cached_calibration(spec: CalibrationSpec) -> CalibrationResult | None:
    """This spec's own calibration, else the nearest one of the same speed on this machine."""
    from emosum_tui.core.calibration_match import nearest

    entries = _read_cache()
    body = entries.get(_calibration_key(spec)) or nearest(entries, "calibration|" + machine_key() + "|", spec)
    return CalibrationResult.from_dict(body) if body else None


# ---------------------------------------------------------------------------------------------
# Building a spec from a preset.


def spec_for(preset: Preset, lengths: TokenLengths | None = None, micro_batches: int = CALIBRATION_MICRO_BATCHES,
             rows_sampled: int = CALIBRATION_ROWS_SAMPLED) -> CalibrationSpec:
    """The probe's job for a preset: its shape, batch, optimizer, and real token lengths."""
    shape, _ = shape_for(preset)
    if lengths is None:
        lengths = TokenLengths.for_preset(preset)
    rng = random.Random(preset["data.seed"])
    train = lengths.train if len(lengths.train) <= rows_sampled else rng.sample(lengths.train, rows_sampled)
    val_source = lengths.validation or lengths.train
    val = val_source if len(val_source) <= rows_sampled else rng.sample(val_source, rows_sampled)
    generate = preset["eval.generation_max_tokens"] or preset["train.max_target_tokens"]
    return CalibrationSpec(
        shape=shape.as_dict(),
        tied_lm_head=shape.tied_lm_head,
        batch_size=preset["train.batch_size"],
        grad_accum=preset["train.grad_accum"],
        optimizer=preset["train.optimizer"],
        precision=preset["train.precision"],
        gradient_checkpointing=preset["model.gradient_checkpointing"],
        learning_rate=preset["train.learning_rate"],
        rows=[tuple(r) for r in train],
        eval_batch_size=preset["eval.batch_size"] or preset["train.batch_size"],
        eval_rows=[tuple(r) for r in val],
        generate_tokens=min(generate, CALIBRATION_GENERATE_TOKENS) if preset["eval.predict_with_generate"] else 0,
        num_beams=preset["eval.num_beams"],
        micro_batches=micro_batches,
        seed=preset["data.seed"],
        compile=preset["train.compile"],
        tf32=preset["train.tf32"],
        fused_optimizer=preset["train.fused_optimizer"],
        pad_to_multiple_of=preset["train.pad_to_multiple_of"],
    )


# ---------------------------------------------------------------------------------------------
# Measuring: a probe subprocess unless the cache already holds the figure.


class CalibrationJob:
    """Calibrate a preset on this machine: cached result at once, else a probe subprocess.

    Use: `job = CalibrationJob(preset).start(); job.wait(); job.result` (or poll `job.progress`
    from a UI timer, `job.cancel()` on a key press).
    """

    def __init__(self, preset: Preset, lengths: TokenLengths | None = None, micro_batches: int = CALIBRATION_MICRO_BATCHES,
                 use_cache: bool = True,
                 on_progress: Callable[[ProbeProgress], None] | None = None) -> None:
        self.spec = spec_for(preset, lengths, micro_batches)
        self.use_cache = use_cache
        self.on_progress = on_progress
        self.result: CalibrationResult | None = None
        self.from_cache = False
        self._probe: ProbeJob | None = None
        self._spec_file: Path | None = None

    def start(self) -> CalibrationJob:
        if self.use_cache:
            self.result = cached_calibration(self.spec)
            self.from_cache = self.result is not None
            if self.from_cache:
                return self
        cache_dir().mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="calibration-spec-", suffix=".json", dir=cache_dir())
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(asdict(self.spec), out)
        self._spec_file = Path(name)
        self._probe = ProbeJob("emosum_tui.probe.calibrate", [str(self._spec_file), str(cache_dir())], self.on_progress).start()
        return self

    @property
    def progress(self) -> ProbeProgress | None:
        return self._probe.progress if self._probe else None

    @property
    def error(self) -> str | None:
        return self._probe.error if self._probe else None

    @property
    def done(self) -> bool:
        return self.result is not None or (self._probe is not None and self._probe.done)

    def wait(self, timeout: float | None = None) -> CalibrationResult | None:
        if self.result is not None or self._probe is None:
            return self.result
        if not self._probe.wait(timeout):
            return None
        if self._spec_file is not None:
            self._spec_file.unlink(missing_ok=True)
        if self._probe.result is not None:
            body = dict(self._probe.result)
            if self._probe.ready_seconds is not None:
                body["startup_seconds"] = self._probe.ready_seconds
            body["measured_at"] = time.time()
            self.result = CalibrationResult.from_dict(body)
            from emosum_tui.core.calibration_match import match_fields

            _write_cache(_calibration_key(self.spec), {**asdict(self.result), **match_fields(self.spec)})
        return self.result

    def cancel(self) -> None:
        if self._probe is not None:
            self._probe.cancel()


def measure_device(use_cache: bool = True, timeout: float = DEVICE_PROBE_TIMEOUT_S,
                   on_progress: Callable[[ProbeProgress], None] | None = None) -> DeviceProfile | None:
    """The throughput prior of this machine (matmul, memory, disk), cached; None if it failed."""
    if use_cache:
        cached = cached_device_profile()
        if cached is not None:
            return cached
    probe = ProbeJob("emosum_tui.probe.matmul", [str(cache_dir())], on_progress).start()
    if not probe.wait(timeout):
        probe.cancel()
        return None
    if probe.result is None:
        return None
    profile = DeviceProfile.from_dict(probe.result)
    store_device_profile(profile)
    return profile
