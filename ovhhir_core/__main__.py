import sys

from ovhhir_core.cli import main

sys.exit(main())
