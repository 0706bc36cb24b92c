"""The console's view of torch: run `emosum_tui.probe.torch_facts` in a subprocess, read its JSON.

Torch-free. The subprocess uses the same Python as the console by default, i.e. the torch the
trainer will import, so "torch is a CPU build" is said about the torch that will train.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Phrase


@dataclass(frozen=True)
class TorchDevice:
    index: int
    name: str
    total_memory: int
    free_memory: int | None
    capability: str
    bf16: bool


@dataclass(frozen=True)
class TorchFacts:
    """What torch can do here. `error` is set (and the rest empty) when torch could not be asked:
    a `Phrase` when this side wrote it (shown translated; English in `--json`)."""

    torch_version: str | None = None
    build: str = "unknown"  # cuda, rocm, cpu
    cuda_built: str | None = None  # the CUDA version the wheel was built for ("12.8")
    cuda_available: bool = False
    cuda_runtime: str | None = None
    devices: tuple[TorchDevice, ...] = ()
    transformers_version: str | None = None
    python: str = ""
    executable: str = ""
    cuda_error: str = ""
    error: Phrase | str = ""

    @property
    def bf16_on_gpu(self) -> bool:
        return bool(self.devices) and all(d.bf16 for d in self.devices)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> TorchFacts:
        devices = tuple(
            TorchDevice(
                index=int(d.get("index", i)),
                name=str(d.get("name", f"cuda:{i}")),
                total_memory=int(d.get("total_memory") or 0),
                free_memory=d.get("free_memory"),
                capability=str(d.get("capability", "")),
                bf16=bool(d.get("bf16", False)),
            )
            for i, d in enumerate(body.get("devices") or [])
        )
        return cls(
            torch_version=body.get("torch_version"),
            build=body.get("build", "unknown"),
            cuda_built=body.get("cuda_built"),
            cuda_available=bool(body.get("cuda_available", False)),
            cuda_runtime=body.get("cuda_runtime"),
            devices=devices,
            transformers_version=body.get("transformers_version"),
            python=body.get("python", ""),
            executable=body.get("executable", ""),
            cuda_error=body.get("cuda_error", ""),
            error=body.get("error", ""),
        )


def probe_torch(python: str | None = None, timeout: float = 120.0) -> TorchFacts:
    """Ask torch, in a subprocess, what it can do. Never raises: failures come back in `error`."""
    command = [python or sys.executable, "-m", "emosum_tui.probe.torch_facts"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return TorchFacts(error=Phrase(N_("the torch probe did not answer in {seconds} s ({command})"), seconds=f"{timeout:.0f}",
                                       command=" ".join(command)))
    except OSError as exc:
        return TorchFacts(error=Phrase(N_("could not start the torch probe: {error}"), error=str(exc)))
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
        return TorchFacts(error=Phrase(N_("the torch probe failed (exit {code}): {tail}"), code=done.returncode,
                                       tail=tail[0] if tail else Phrase(N_("no output"))))
    try:
        return TorchFacts.from_json(json.loads(lines[-1]))
    except ValueError as exc:
        return TorchFacts(error=Phrase(N_("the torch probe printed something that is not JSON: {error}"), error=str(exc)))
