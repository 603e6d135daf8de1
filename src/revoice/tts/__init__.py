"""Text-to-speech engines. Each adapter turns text into a stream of `Audio` chunks."""
