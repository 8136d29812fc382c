"""``python -m zkhealth`` runs the ``zkhealth`` command."""

from zkhealth.cli import run
from zkhealth.cli._common import exit_process, own_process

own_process()
exit_process(run())
