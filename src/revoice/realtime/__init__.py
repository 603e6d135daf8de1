"""Live voice to voice over the OpenAI Realtime protocol (`/v1/realtime`, WebSocket).

The pieces, each usable on its own:

- `formats`: the wire audio formats (pcm16 at a rate, G.711 mu-law and A-law);
- `turns`: streaming Silero VAD and `server_vad` turn detection;
- `hearing`: stable partial transcripts of a growing turn (LocalAgreement);
- `session`: the session's configuration and how `session.update` changes it;
- `protocol`: event ids, server event shapes and client frame checks;
- `conversation`: one session's state machine, calling `revoice.pipeline.Pipeline`;
- `door`: the FastAPI WebSocket route, auth and per-session limits.

See docs/realtime.md for the events supported.
"""
