"""Live voice to voice over the OpenAI Realtime protocol (`/v1/realtime`, WebSocket).

The pieces, each usable on its own:

- `formats`: the wire audio formats (pcm16 at a rate, G.711 mu-law and A-law);
- `turns`: streaming Silero VAD and `server_vad` turn detection;
- `smart_turn` (+ `smart_turn_features`): Smart Turn v3.2, for `semantic_vad`;
- `hearing`: stable partial transcripts of a growing turn (LocalAgreement);
- `buffer`, `recognition`, `listener`: the input buffer, one decode of a turn through the
  Pipeline, and the listening half of a session (turns, partial and final passes);
- `responses`: one response, spoken through the Pipeline;
- `session`, `items`: the session's configuration (`session.update`), the conversation's items;
- `protocol`: event ids, `error` events and client frame checks;
- `conversation`: one session's state machine;
- `door`: the FastAPI WebSocket route and the per-session limits.

See docs/realtime.md for the events supported.
"""
