"""What some events carry: the run's environment and its totals, and reading them tolerantly.

Kept apart from the event classes (`core.events`, which re-exports these names) so the schema
module holds the events alone. A key missing from an older run reads as its default; an
unknown key is skipped, so a newer writer never breaks an older reader. Standard library only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

T = TypeVar("T")


def known_fields(cls: type, body: dict[str, Any]) -> dict[str, Any]:
    """The keys of `body` that are fields of the dataclass `cls`: a reader skips the rest, so a
    newer writer may add keys without breaking an older reader."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in body.items() if k in names}


def from_dict(cls: type[T], body: object) -> T:
    """`cls` from a JSON object, skipping unknown keys; the defaults for anything not an object.
    Raises TypeError when a known key holds a value the class refuses."""
    return cls(**known_fields(cls, body)) if isinstance(body, dict) else cls()


@dataclass(frozen=True)
class GpuDevice:
    """One CUDA device as torch reported it at the start of a run."""

    index: int = 0
    name: str = ""
    memory_bytes: int = 0
    capability: str = ""  # "8.0"
    uuid: str = ""  # "GPU-1a2b...": what NVML calls the same device ("" = not recorded)


@dataclass(frozen=True)
class Environment:
    """What the trainer found at start (also `environment.json`). A key missing from an older
    run reads as its default; None means "not recorded", never "no"."""

    python: str = ""
    platform: str = ""
    machine: str = ""
    cpu_count: int | None = None
    torch: str = ""
    torch_cuda_build: str | None = None
    torch_cpu_only_build: bool = False
    cuda_available: bool | None = None
    torch_threads: int | None = None
    transformers: str = ""
    datasets: str | None = None  # optional packages: None when not installed
    accelerate: str | None = None
    sentencepiece: str | None = None
    tokenizers: str | None = None
    bf16_supported: bool | None = None  # asked of CUDA only
    devices: tuple[GpuDevice, ...] = ()
    cuda_visible_devices: str | None = None  # the trainer's CUDA_VISIBLE_DEVICES; None = unset (every GPU)

    @classmethod
    def from_dict(cls, body: object) -> Environment:
        values = known_fields(cls, body) if isinstance(body, dict) else {}
        devices = values.get("devices") or ()
        values["devices"] = tuple(from_dict(GpuDevice, d) for d in devices if isinstance(d, dict))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def recorded(self) -> bool:
        """False for a run start that carried no environment."""
        return self != Environment()


@dataclass(frozen=True)
class RunTotals:
    """What one trainer process did, counted at its end (`done`, when training ran)."""

    train_rows: int = 0
    eval_rows: int = 0
    steps_this_process: int = 0
    train_seconds: float = 0.0
    samples: int = 0
    tokens: int = 0  # non-padding source + target tokens
    mean_train_loss: float | None = None
    final_bytes: int | None = None  # output_dir/final, when the run completed

    @classmethod
    def from_dict(cls, body: object) -> RunTotals | None:
        """None for the empty totals of a run that failed before it could count."""
        return from_dict(cls, body) if isinstance(body, dict) and body else None
