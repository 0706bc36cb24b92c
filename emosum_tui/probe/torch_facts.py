"""What torch on this machine can do, printed as one JSON object (run as a subprocess).

`python -m emosum_tui.probe.torch_facts` prints torch's version, its build (cuda, rocm or cpu),
whether CUDA works, the CUDA runtime it was built with, the devices it sees and their bf16
support. The console runs it in a subprocess so the console itself never imports torch.
An import failure is reported in the JSON ("error"), not as a traceback.
"""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from typing import Any


def facts() -> dict[str, Any]:
    out: dict[str, Any] = {"python": sys.version.split()[0], "executable": sys.executable, "platform": platform.platform()}
    try:
        import torch
    except Exception as exc:  # torch missing or broken (a DLL load failure on Windows)
        out["error"] = f"import torch failed: {type(exc).__name__}: {exc}"
        return out
    hip = getattr(torch.version, "hip", None)
    cuda = getattr(torch.version, "cuda", None)
    out.update(
        torch_version=torch.__version__,
        build="rocm" if hip else "cuda" if cuda else "cpu",
        cuda_built=cuda,
        hip_built=hip,
        cuda_available=False,
        cuda_runtime=None,
        cudnn=None,
        devices=[],
        mps_available=bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
        cpu_threads=torch.get_num_threads(),
        cpu_bf16=True,
    )
    try:
        out["cuda_available"] = bool(torch.cuda.is_available())
    except Exception as exc:  # a driver too old for the runtime raises here on some builds
        out["cuda_error"] = f"{type(exc).__name__}: {exc}"
    if out["cuda_available"]:
        out["cuda_runtime"] = cuda or hip
        try:
            out["cudnn"] = torch.backends.cudnn.version()
        except Exception:
            out["cudnn"] = None
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            try:
                free, total = torch.cuda.mem_get_info(index)
            except Exception:
                free, total = None, props.total_memory
            with torch.cuda.device(index):
                bf16 = bool(torch.cuda.is_bf16_supported())
            out["devices"].append(
                {
                    "index": index,
                    "name": props.name,
                    "total_memory": int(total),
                    "free_memory": None if free is None else int(free),
                    "capability": f"{props.major}.{props.minor}",
                    "bf16": bf16,
                }
            )
    try:  # the installed version, without paying for `import transformers`
        out["transformers_version"] = metadata.version("transformers")
    except metadata.PackageNotFoundError:
        out["transformers_version"] = None
    return out


def main() -> int:
    print(json.dumps(facts()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
