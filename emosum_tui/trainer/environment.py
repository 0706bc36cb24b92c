"""Environment facts and the device/precision decision.

A CPU-only torch build on a machine with a GPU trains at CPU speed without a word; writing what
torch sees (build, CUDA, devices) into the run dir lets the console say so in the first seconds.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field

from emosum_tui.core.events import Environment, GpuDevice


def _version_of(package: str) -> str | None:
    try:
        return __import__(package).__version__
    except Exception:  # a missing optional package is a fact too
        return None


def _nvml_uuid(props: object) -> str:
    """A device's UUID as NVML spells it ("GPU-<uuid>"), so the console finds the same GPU whatever
    CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER did to torch's numbering; "" when torch cannot say."""
    uuid = str(getattr(props, "uuid", "") or "")
    return uuid if not uuid or uuid.startswith(("GPU-", "MIG-")) else f"GPU-{uuid}"


def _cuda_devices() -> tuple[GpuDevice, ...]:
    import torch

    if not torch.cuda.is_available():
        return ()
    devices = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        devices.append(GpuDevice(index=index, name=props.name, memory_bytes=props.total_memory,
                                 capability=f"{props.major}.{props.minor}", uuid=_nvml_uuid(props)))
    return tuple(devices)


def environment_facts() -> Environment:
    """What torch and the machine say now (versions, build, CUDA devices)."""
    import torch
    import transformers

    cuda = torch.cuda.is_available()
    return Environment(
        python=sys.version.split()[0],
        platform=platform.platform(),
        machine=platform.machine(),
        cpu_count=os.cpu_count(),
        torch=torch.__version__,
        torch_cuda_build=torch.version.cuda,
        torch_cpu_only_build=torch.version.cuda is None and getattr(torch.version, "hip", None) is None,
        cuda_available=cuda,
        torch_threads=torch.get_num_threads(),
        transformers=transformers.__version__,
        datasets=_version_of("datasets"),
        accelerate=_version_of("accelerate"),
        sentencepiece=_version_of("sentencepiece"),
        tokenizers=_version_of("tokenizers"),
        bf16_supported=torch.cuda.is_bf16_supported() if cuda else None,
        devices=_cuda_devices(),
        cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"),
    )


@dataclass
class DeviceChoice:
    device: str  # "cuda:0 (NVIDIA ...)" or "cpu"
    use_cpu: bool
    precision: str  # "bf16", "fp16" or "fp32": what actually runs
    warnings: list[str] = field(default_factory=list)


def choose_device(requested: str) -> DeviceChoice:
    """`auto`: CUDA when available with bf16 where supported, else fp32. fp16 only when asked."""
    import torch

    if not torch.cuda.is_available():
        warnings = []
        if torch.version.cuda is None:
            warnings.append("torch is a CPU-only build: training runs on the CPU (install a CUDA build of torch to use a GPU)")
        if requested in ("bf16", "fp16"):
            warnings.append(f"train.precision = '{requested}' needs a CUDA GPU here; running fp32 on the CPU")
        return DeviceChoice("cpu", True, "fp32", warnings)
    name = f"cuda:0 ({torch.cuda.get_device_name(0)})"
    bf16 = torch.cuda.is_bf16_supported()
    if requested == "auto":
        return DeviceChoice(name, False, "bf16" if bf16 else "fp32")
    if requested == "bf16" and not bf16:
        return DeviceChoice(name, False, "fp32", ["this GPU has no bf16: running fp32"])
    if requested == "fp16":
        return DeviceChoice(name, False, "fp16", ["mT5 in fp16 is known to overflow to NaN loss; prefer bf16 or fp32"])
    return DeviceChoice(name, False, requested)
