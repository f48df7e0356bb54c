"""``python -m component --config FILE`` is ``haven run --config FILE``."""

from __future__ import annotations

import sys

from component.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        args = ["run", *args]
    main(args, prog_name="haven")
