"""MarketFinder helper package: every rule of the pipeline lives here; notebooks only call it."""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
