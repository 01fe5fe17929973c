"""Entry point for ``python -m synth_core``."""

import sys

from synth_core.cli import main

sys.exit(main())
