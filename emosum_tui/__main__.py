"""`python -m emosum_tui` is the same as `emosum-tui`."""

import sys

from emosum_tui.cli import main

sys.exit(main())
