"""``python -m zkhealth`` runs the ``zkhealth`` command."""

import sys

from zkhealth.cli import run

sys.exit(run())
