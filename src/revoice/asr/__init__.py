"""Speech-to-text engines. Each adapter turns `Audio` into a `Transcript`."""
