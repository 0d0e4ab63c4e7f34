import sys

from billoget_hooks.cli import main

sys.exit(main())
