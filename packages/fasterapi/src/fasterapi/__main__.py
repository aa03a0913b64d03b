"""`python -m fasterapi run module:app`: the same as the `fasterapi` command."""

from fasterapi.cli import main

raise SystemExit(main())
