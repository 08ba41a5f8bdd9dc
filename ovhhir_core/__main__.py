import sys

from ovhhir_core.commands.cli import main

sys.exit(main())
