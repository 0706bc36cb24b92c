"""The trainer side: runs one preset with the Hugging Face stack and writes the run directory.

Everything here may import torch, transformers and datasets; the console never imports this
package (it reads the run directory through `emosum_tui.core.rundir` and `core.events`).
"""
