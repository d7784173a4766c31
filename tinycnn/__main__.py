"""``python -m tinycnn``: the command line (see :mod:`tinycnn.cli`)."""
import sys

from tinycnn.cli import main

sys.exit(main())
