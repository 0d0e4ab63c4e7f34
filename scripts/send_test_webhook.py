"""Send a signed Billoget webhook to a receiver; see ``--help`` (billoget_hooks.sender.cli)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from billoget_hooks.sender.cli import main

if __name__ == "__main__":
    sys.exit(main())
