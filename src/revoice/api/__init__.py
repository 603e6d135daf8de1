"""The OpenAI-compatible HTTP API (`/v1`), mounted by `revoice.server.create_app`."""
