import sys

from emulator.commands import main

sys.exit(main())
