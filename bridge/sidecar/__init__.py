"""The sidecar's logic that needs no transport: catalogue and routing, call interception."""
