"""``scripts/dev``: run ``billoget-hooks dev`` (billoget_hooks.devstack.stack) from a checkout."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from billoget_hooks.cli import main

if __name__ == "__main__":
    sys.exit(main(["dev", *sys.argv[1:]]))
