"""`python -m bridge` is the `rpcbridge` command."""

from bridge.cli import main

raise SystemExit(main())
