// revoice's live mode: the microphone capture processor (an AudioWorklet).
//
// It takes the first input channel at the AudioContext's rate (`sampleRate`, often 48000 or
// 44100), resamples it to `outRate` (24000: the realtime door's pcm16 rate) with a windowed-sinc
// low-pass, and posts Int16Array buffers of `chunkSamples` (100 ms) to the page, transferred.
// The page loads this file's text as a Blob URL (revoice.ui.live).

class RevoiceCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    this.outRate = opts.outRate || 24000;
    this.chunkSamples = opts.chunkSamples || 2400;
    this.ratio = sampleRate / this.outRate; // input samples per output sample
    // cut off a little below the lower of the two Nyquist frequencies (as a fraction of the
    // input's), with enough taps for a clean stop band
    this.cutoff = 0.92 * Math.min(1, 1 / this.ratio);
    this.half = Math.ceil(10 / this.cutoff); // kernel half-width, input samples
    this.history = new Float32Array(0); // input not yet consumed
    this.historyStart = 0; // absolute index of history[0]
    this.nextOut = 0; // absolute index of the next output sample
    this.out = new Int16Array(this.chunkSamples);
    this.filled = 0;
    this.taps = new Map(); // the kernel at each fractional position seen (they repeat)
    this.running = true;
    this.port.onmessage = (event) => {
      if (event.data === "stop") this.running = false;
    };
  }

  kernel(distance) {
    // windowed sinc at `distance` input samples from the output position (Blackman window)
    const x = distance * this.cutoff;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const w = distance / this.half; // -1 .. 1
    const window = 0.42 + 0.5 * Math.cos(Math.PI * w) + 0.08 * Math.cos(2 * Math.PI * w);
    return this.cutoff * sinc * window;
  }

  tapsAt(fraction) {
    // the 2 * half weights for the inputs centre - half + 1 .. centre + half, normalised
    const key = Math.round(fraction * 1e6);
    let taps = this.taps.get(key);
    if (taps === undefined) {
      taps = new Float32Array(2 * this.half);
      let weight = 0;
      for (let j = 0; j < taps.length; j++) {
        taps[j] = this.kernel(fraction + this.half - 1 - j);
        weight += taps[j];
      }
      for (let j = 0; j < taps.length; j++) taps[j] /= weight;
      if (this.taps.size < 4096) this.taps.set(key, taps);
    }
    return taps;
  }

  emit(value) {
    const clamped = Math.max(-1, Math.min(1, value));
    this.out[this.filled++] = clamped < 0 ? clamped * 32768 : clamped * 32767;
    if (this.filled === this.chunkSamples) {
      this.port.postMessage(this.out.buffer, [this.out.buffer]);
      this.out = new Int16Array(this.chunkSamples);
      this.filled = 0;
    }
  }

  push(samples) {
    if (this.ratio === 1) {
      for (let i = 0; i < samples.length; i++) this.emit(samples[i]);
      return;
    }
    const joined = new Float32Array(this.history.length + samples.length);
    joined.set(this.history);
    joined.set(samples, this.history.length);
    const end = this.historyStart + joined.length; // one past the last input sample held
    for (;;) {
      const position = this.nextOut * this.ratio; // absolute input position of this output
      const centre = Math.floor(position);
      if (centre + this.half >= end) break; // wait for the samples after it
      const taps = this.tapsAt(position - centre);
      const first = centre - this.half + 1 - this.historyStart;
      let sum = 0;
      for (let j = 0; j < taps.length; j++) {
        const i = first + j;
        if (i >= 0) sum += joined[i] * taps[j]; // before the stream began: silence
      }
      this.emit(sum);
      this.nextOut++;
    }
    // keep what the next outputs still need
    const keepFrom = Math.max(
      this.historyStart,
      Math.floor(this.nextOut * this.ratio) - this.half + 1,
    );
    this.history = joined.slice(keepFrom - this.historyStart);
    this.historyStart = keepFrom;
  }

  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0 && input[0].length > 0) this.push(input[0]);
    return this.running;
  }
}

registerProcessor("revoice-capture", RevoiceCapture);
