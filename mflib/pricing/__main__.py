"""Entry point of `python -m mflib.pricing CASES.json` (see mflib.pricing.cli)."""

import sys

from mflib.pricing.cli import main

sys.exit(main())
