"""``python -m tradeie.cli``: the console script without installing its entry point."""

import sys

from tradeie.cli import main

sys.exit(main())
