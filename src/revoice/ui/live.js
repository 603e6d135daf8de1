// revoice's live mode on the page (revoice.ui.live): talk hands free through /v1/realtime.
//
// Run by Gradio's gr.HTML `js_on_load`, with `element` (the live panel) in scope and CONFIG
// (the capture worklet's source, the text-step modes, the page controls' first values) defined
// before this text. State and measurements are on `window.revoiceLive` (the page's tests read
// them).

const RATE = 24000; // pcm16 at 24 kHz, both ways
const CHUNK_SAMPLES = 2400; // 100 ms of microphone per input_audio_buffer.append
const START_LEAD = 0.15; // s: an answer starts this far ahead (room for a late second chunk)
const SAFETY = 0.005; // s: a chunk is never scheduled closer to now than this
const SETUP_SECONDS = 20; // no session by then: say so

const panel = element;
const part = (name) => panel.querySelector(`[data-live="${name}"]`);
const ui = {
  section: panel.querySelector(".revoice-live"),
  start: part("start"),
  stop: part("stop"),
  status: part("status"),
  error: part("error"),
  log: part("log"),
  asYouSpeak: part("as-you-speak"),
};

const live = {
  running: false,
  state: "off",
  settings: Object.assign(
    {},
    CONFIG.defaults,
    window.revoiceLiveSettings || {},
    { asYouSpeak: ui.asYouSpeak ? ui.asYouSpeak.checked : true },
  ),
  stats: null,
  // the last session's microphone tracks, socket and AudioContext (kept after Stop)
  tracks: [],
  socket: null,
  context: null,
  start: () => start(),
  stop: () => stop(),
};
window.revoiceLive = live;

let ctx = null; // the AudioContext: capture and playback
let stream = null; // the microphone
let capture = null; // { source, node, sink }
let output = null; // { gain, analyser, probe }
let ws = null;
let opened = false; // the socket opened (else the handshake was refused)
let eventCount = 0;
let setupEventId = null;
let playhead = 0; // ctx time where the next answer chunk starts
let current = null; // the answer playing or being received
let stopping = false;
let resend = null;
let lastStarted = null; // the latest turn that began
let lastHeard = null; // the latest turn whose transcript is complete: the next answer's
let heardTimes = []; // [end sample, performance.now()] of each microphone chunk, as it came
let captured = 0; // microphone samples (24 kHz) so far
let pending = []; // microphone chunks taken before the session was ready: sent then
let ready = false; // the session is set up: audio goes straight out
let setupTimer = null;

function freshStats() {
  return {
    contextRate: 0,
    socket: "closed",
    mic: "off",
    sentSamples: 0,
    sentChunks: 0,
    received: { chunks: 0, bytes: 0, samples: 0, sumSquares: 0, peak: 0 },
    played: { seconds: 0, peakRms: 0, loudPolls: 0, polls: 0 },
    underruns: 0,
    gaps: [], // each late chunk: how late, and how long after the one before it came
    turns: [], // { itemId, text, done }
    responses: [], // { id, itemId, text, status, samples, playedMs, latencyMs, truncatedMs }
    truncations: [], // the server's conversation.item.truncated events
    bargeIns: 0,
    errors: [],
    session: null,
    events: {}, // how many of each server event
    closeCode: null,
  };
}
live.stats = freshStats();

// the page's controls (voice, language, text step, instruction, speed) -> the session

function settingsChanged(changes) {
  live.settings = Object.assign({}, live.settings, changes);
  if (ws && opened && ws.readyState === WebSocket.OPEN) {
    clearTimeout(resend); // typing an instruction: one update when it stops
    resend = setTimeout(() => send({ type: "session.update", session: sessionFor(live.settings) }), 400);
  }
}

document.addEventListener("revoice-live-settings", (event) => settingsChanged(event.detail));
if (ui.asYouSpeak)
  ui.asYouSpeak.addEventListener("change", () => settingsChanged({ asYouSpeak: ui.asYouSpeak.checked }));

function saysAsYouSpeak() {
  // the session says each sentence while the user talks: their own words, so no barge-in
  const session = live.stats.session;
  return Boolean(session && session.revoice && session.revoice.live);
}

function sessionFor(s) {
  const language = s.language && s.language !== "auto" ? s.language : null;
  const instruction = typeof s.instruction === "string" ? s.instruction.trim() : "";
  const mode = CONFIG.modes[s.step] || "none";
  return {
    type: "realtime",
    output_modalities: ["audio"],
    audio: {
      input: {
        format: { type: "audio/pcm", rate: RATE },
        transcription: { model: "whisper-1", language },
        turn_detection: { type: "server_vad", create_response: true, interrupt_response: true },
      },
      output: {
        format: { type: "audio/pcm", rate: RATE },
        voice: s.voice || null,
        speed: Number(s.speed) || 1.0,
      },
    },
    revoice: {
      mode,
      instruction: instruction || null,
      // say each sentence as soon as it is heard (re-speak or translate, not a reply)
      live: s.asYouSpeak !== false && mode !== "reply" && !instruction,
    },
  };
}

// what the panel shows

const STATUS = {
  off: "Off",
  starting: "Starting the microphone…",
  connecting: "Connecting…",
  listening: "Listening: talk",
  hearing: "Hearing you…",
  thinking: "Getting the answer…",
  speaking: "Speaking (talk to interrupt)",
};

function setState(state) {
  live.state = state;
  ui.status.textContent = STATUS[state] || state;
  ui.section.dataset.state = state;
  ui.start.disabled = live.running;
  ui.stop.disabled = !live.running;
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
  live.stats.errors.push(message);
}

function clearError() {
  ui.error.textContent = "";
  ui.error.hidden = true;
}

function line(who, cls) {
  const row = document.createElement("p");
  row.className = `live-line ${cls}`;
  const label = document.createElement("span");
  label.className = "live-who";
  label.textContent = who;
  const words = document.createElement("span");
  words.className = "live-words";
  row.append(label, words);
  ui.log.append(row);
  ui.log.scrollTop = ui.log.scrollHeight;
  return words;
}

function turnFor(itemId) {
  let turn = live.stats.turns.find((t) => t.itemId === itemId);
  if (!turn) {
    turn = { itemId, text: "", done: false, deltas: 0 };
    Object.defineProperty(turn, "view", { value: line("You", "live-you"), enumerable: false });
    turn.view.parentElement.dataset.item = itemId;
    live.stats.turns.push(turn);
  }
  return turn;
}

function responseFor(id) {
  let response = live.stats.responses.find((r) => r.id === id);
  if (!response) {
    response = {
      id,
      itemId: null,
      text: "",
      status: "in_progress",
      samples: 0,
      playedMs: 0,
      latencyMs: null,
      truncatedMs: null,
      interrupted: false,
    };
    Object.defineProperty(response, "view", { value: line("revoice", "live-revoice"), enumerable: false });
    Object.defineProperty(response, "sources", { value: [], enumerable: false, writable: true });
    response.view.parentElement.dataset.response = id;
    live.stats.responses.push(response);
  }
  return response;
}

// start and stop

function micMessage(exc) {
  const name = exc && exc.name;
  if (name === "NotAllowedError" || name === "SecurityError")
    return "The microphone is blocked: allow it for this page (the icon in the address bar), then press Start live again.";
  if (name === "NotFoundError" || name === "OverconstrainedError")
    return "No microphone was found: plug one in, then press Start live again.";
  if (name === "NotReadableError" || name === "AbortError")
    return "The microphone is in use by another program, or it failed: close that program, then try again.";
  return `The microphone could not be opened (${name || "error"}: ${(exc && exc.message) || exc}).`;
}

class LiveError extends Error {}

async function start() {
  if (live.running) return;
  clearError();
  live.stats = freshStats();
  heardTimes = [];
  captured = 0;
  pending = [];
  ready = false;
  eventCount = 0;
  opened = false;
  stopping = false;
  current = null;
  lastHeard = null;
  lastStarted = null;
  live.running = true;
  live.tracks = [];
  live.socket = null;
  live.context = null;
  setState("starting");
  try {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
      throw new LiveError(
        "This page cannot use the microphone here: browsers allow it only over https (or on localhost). Serve revoice with --ssl-certfile/--ssl-keyfile, or open it on this machine.",
      );
    if (!window.AudioContext || !window.AudioWorkletNode || !window.WebSocket)
      throw new LiveError("This browser cannot do live mode (it needs Web Audio worklets and WebSockets).");
    ctx = new AudioContext(); // made in the click, so it may play
    live.context = ctx;
    live.stats.contextRate = ctx.sampleRate;
    const resumed = ctx.resume();
    let mic;
    try {
      // echo cancellation on: revoice must not hear its own answers through the speakers
      mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
      });
    } catch (exc) {
      throw new LiveError(micMessage(exc));
    }
    if (!live.running) {
      mic.getTracks().forEach((track) => track.stop()); // stopped while the browser asked
      return;
    }
    stream = mic;
    live.tracks = mic.getTracks();
    live.stats.mic = "on";
    await resumed;
    if (!live.running) return;
    const url = URL.createObjectURL(new Blob([CONFIG.worklet], { type: "text/javascript" }));
    try {
      await ctx.audioWorklet.addModule(url);
    } finally {
      URL.revokeObjectURL(url);
    }
    if (!live.running) return;
    const gain = ctx.createGain();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    gain.connect(analyser);
    analyser.connect(ctx.destination);
    output = { gain, analyser, probe: setInterval(probe, 50) };
    playhead = 0;
    // listen from now on: what is said while the socket opens is kept and sent once it is set
    startCapture();
    connect();
  } catch (exc) {
    if (!live.running) return; // Stop was pressed meanwhile
    fail(exc instanceof LiveError ? exc.message : `Live mode failed: ${exc && exc.message ? exc.message : exc}`);
  }
}

function realtimeUrl() {
  const root = window.gradio_config && window.gradio_config.root;
  const url = root
    ? new URL(`${root.replace(/\/+$/, "")}/v1/realtime`)
    : new URL("v1/realtime", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = "?model=revoice-live";
  return url.href;
}

function connect() {
  setState("connecting");
  setupTimer = setTimeout(() => {
    if (live.running && !ready)
      fail(`revoice did not set up the live session within ${SETUP_SECONDS} s: is the server busy?`);
  }, SETUP_SECONDS * 1000);
  const socket = new WebSocket(realtimeUrl(), ["realtime"]);
  ws = socket;
  live.socket = socket;
  live.stats.socket = "connecting";
  // an earlier session's socket may still be closing: only this one's events count
  socket.onopen = () => {
    if (ws !== socket) return;
    opened = true;
    live.stats.socket = "open";
    setupEventId = send({ type: "session.update", session: sessionFor(live.settings) });
  };
  socket.onmessage = (message) => {
    if (ws !== socket) return;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (exc) {
      return;
    }
    live.stats.events[event.type] = (live.stats.events[event.type] || 0) + 1;
    try {
      handle(event);
    } catch (exc) {
      console.error("revoice live: handling", event.type, exc);
    }
  };
  socket.onclose = (event) => {
    if (live.socket !== socket) return;
    live.stats.socket = "closed";
    live.stats.closeCode = event.code;
    if (ws !== socket || !live.running || stopping) return;
    let message;
    if (!opened)
      message =
        "revoice refused the live connection. If this server needs its API key, reload the page and sign in again.";
    else if (event.code === 1013) message = "revoice is serving as many live sessions as it can: try again later.";
    else message = `The live connection closed (code ${event.code}${event.reason ? `: ${event.reason}` : ""}).`;
    if (!live.stats.errors.length) fail(message);
    else stop();
  };
}

function send(event) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return null;
  const id = `evt_live_${++eventCount}`;
  ws.send(JSON.stringify(Object.assign({ event_id: id }, event)));
  return id;
}

function startCapture() {
  const source = ctx.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(ctx, "revoice-capture", {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    channelCount: 1,
    channelCountMode: "explicit",
    processorOptions: { outRate: RATE, chunkSamples: CHUNK_SAMPLES },
  });
  const sink = ctx.createGain(); // keeps the worklet pulled, silently
  sink.gain.value = 0;
  source.connect(node);
  node.connect(sink);
  sink.connect(ctx.destination);
  node.port.onmessage = (message) => heardAudio(new Uint8Array(message.data));
  capture = { source, node, sink };
  stream.getAudioTracks().forEach((track) => {
    track.onended = () => {
      if (live.running && !stopping) fail("The microphone stopped (it was unplugged or taken away).");
    };
  });
}

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function heardAudio(bytes) {
  captured += bytes.length / 2;
  heardTimes.push([captured, performance.now()]);
  if (heardTimes.length > 3000) heardTimes.splice(0, 1000); // the last 5 minutes or so
  if (ready) sendAudio(bytes);
  else pending.push(bytes); // at most SETUP_SECONDS of it
}

function sendAudio(bytes) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  send({ type: "input_audio_buffer.append", audio: base64(bytes) });
  live.stats.sentSamples += bytes.length / 2;
  live.stats.sentChunks += 1;
}

function timeOfSample(sample) {
  // performance.now() when input sample `sample` (24 kHz, from the session's start) was heard
  for (const [end, at] of heardTimes) if (end >= sample) return at - ((end - sample) / RATE) * 1000;
  return null;
}

function fail(message) {
  showError(message);
  stop();
}

function stop() {
  if (stopping && !live.running) return;
  stopping = true;
  live.running = false;
  clearTimeout(resend);
  clearTimeout(setupTimer);
  pending = [];
  ready = false;
  silence();
  if (capture) {
    capture.node.port.postMessage("stop");
    capture.node.port.onmessage = null;
    capture.source.disconnect();
    capture.node.disconnect();
    capture.sink.disconnect();
    capture = null;
  }
  if (stream) {
    stream.getTracks().forEach((track) => track.stop());
    stream = null;
  }
  live.stats.mic = "off";
  if (output) {
    clearInterval(output.probe);
    output = null;
  }
  if (ws) {
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, "stopped");
    ws = null;
  }
  if (ctx) {
    ctx.close().catch(() => {});
    ctx = null;
  }
  setState("off");
}

// server events

function handle(event) {
  switch (event.type) {
    case "session.updated":
      live.stats.session = event.session;
      if (!ready) {
        ready = true;
        clearTimeout(setupTimer);
        for (const bytes of pending) sendAudio(bytes); // what was said while it was set up
        pending = [];
        setState("listening");
      }
      break;
    case "input_audio_buffer.speech_started":
      if (!saysAsYouSpeak()) bargeIn();
      lastStarted = turnFor(event.item_id);
      setState("hearing");
      break;
    case "input_audio_buffer.speech_stopped": {
      const turn = turnFor(event.item_id);
      turn.speechEndAt = timeOfSample(Math.round((event.audio_end_ms * RATE) / 1000));
      turn.stoppedAt = performance.now(); // when the door said so
      setState("thinking");
      break;
    }
    case "conversation.item.input_audio_transcription.delta": {
      const turn = turnFor(event.item_id);
      turn.text += event.delta || "";
      turn.deltas += 1;
      turn.view.textContent = turn.text;
      break;
    }
    case "conversation.item.input_audio_transcription.completed": {
      const turn = turnFor(event.item_id);
      turn.text = event.transcript || "";
      turn.done = true;
      turn.completedAt = performance.now();
      turn.view.textContent = turn.text;
      turn.view.parentElement.classList.add("live-done");
      if (!turn.text.trim()) turn.view.parentElement.remove(); // a noise, not words: no answer
      else lastHeard = turn;
      break;
    }
    case "response.created":
      current = responseFor(event.response.id);
      // answers are made in the order the turns were heard; said as you speak, an answer
      // may come while its turn is still being heard
      current.turn = lastStarted && !lastStarted.done && saysAsYouSpeak() ? lastStarted : lastHeard;
      current.duringTurn = Boolean(current.turn && !current.turn.done);
      current.createdAt = performance.now();
      break;
    case "response.output_item.added":
      responseFor(event.response_id).itemId = event.item.id;
      break;
    case "response.output_audio_transcript.delta":
    case "response.output_text.delta": {
      const response = responseFor(event.response_id);
      response.text += event.delta || "";
      response.view.textContent = response.text;
      break;
    }
    case "response.output_audio.delta":
      play(responseFor(event.response_id), event);
      break;
    case "response.done": {
      const response = responseFor(event.response.id);
      response.status = event.response.status;
      if (response.status !== "completed" && response.text) {
        response.interrupted = true;
        response.view.parentElement.classList.add("live-interrupted");
      }
      if (response.status === "failed") {
        const error = event.response.status_details && event.response.status_details.error;
        showError(`revoice could not answer: ${(error && error.message) || "it failed"}`);
      }
      if (live.state === "thinking" && !response.samples) setState("listening");
      break;
    }
    case "conversation.item.truncated":
      live.stats.truncations.push({ itemId: event.item_id, audioEndMs: event.audio_end_ms });
      break;
    case "error":
      onError(event.error || {});
      break;
    default:
      break;
  }
}

function onError(error) {
  const message = error.message || "unknown error";
  if (error.event_id && error.event_id === setupEventId) {
    fail(`revoice refused the live settings: ${message}`);
  } else if (["session_limit_reached", "session_expired", "idle_timeout"].includes(error.code)) {
    showError(`revoice ended the live session: ${message}`);
  } else {
    showError(`revoice: ${message}`);
  }
}

// the answer's speech, chunk after chunk on the AudioContext's timeline

function play(response, event) {
  if (!ctx || !output || response.interrupted) return; // a stopped answer: drop what follows
  const bytes = Uint8Array.from(atob(event.delta), (c) => c.charCodeAt(0));
  const pcm = new Int16Array(bytes.buffer, 0, bytes.length >> 1);
  if (!pcm.length) return;
  const samples = new Float32Array(pcm.length);
  const got = live.stats.received;
  for (let i = 0; i < pcm.length; i++) {
    const x = pcm[i] / 32768;
    samples[i] = x;
    got.sumSquares += x * x;
    if (Math.abs(x) > got.peak) got.peak = Math.abs(x);
  }
  got.chunks += 1;
  got.bytes += bytes.length;
  got.samples += pcm.length;
  response.samples += pcm.length;
  const buffer = ctx.createBuffer(1, samples.length, RATE);
  buffer.copyToChannel(samples, 0);
  const source = ctx.createBufferSource();
  source.buffer = buffer;
  source.connect(output.gain);
  const now = ctx.currentTime;
  const arrived = performance.now();
  if (response.sources.length && playhead < now) {
    // a gap: this chunk came after the one before it had finished playing
    live.stats.underruns += 1;
    live.stats.gaps.push({
      response: response.id,
      chunk: response.sources.length,
      lateMs: Math.round((now - playhead) * 1000),
      afterMs: Math.round(arrived - response.lastArrival),
    });
  }
  response.lastArrival = arrived;
  const at = Math.max(playhead, now + (response.sources.length ? SAFETY : START_LEAD));
  source.start(at);
  playhead = at + buffer.duration;
  response.sources.push({ source, at, duration: buffer.duration, arrived: now });
  if (response.latencyMs === null) {
    response.firstAudioAt = performance.now(); // arrived
    response.firstHeardAt = performance.now() + (at - now) * 1000;
    const turn = response.turn;
    if (turn && turn.speechEndAt != null) response.latencyMs = Math.round(response.firstHeardAt - turn.speechEndAt);
  }
  current = response;
  setState("speaking");
  const context = ctx;
  source.onended = () => {
    if (ctx !== context) return; // stopped since
    response.playedMs = playedMs(response);
    if (live.running && current === response && ctx.currentTime >= playhead - 0.01 && live.state === "speaking")
      setState("listening");
  };
}

function playedMs(response) {
  if (!ctx) return response.playedMs;
  const now = ctx.currentTime;
  let seconds = 0;
  for (const s of response.sources) seconds += Math.min(s.duration, Math.max(0, (s.stopAt ?? now) - s.at));
  return Math.floor(seconds * 1000);
}

function playing() {
  return ctx !== null && current !== null && !current.interrupted && ctx.currentTime < playhead;
}

function silence() {
  // stop every scheduled chunk now (barge-in, Stop)
  for (const response of live.stats.responses) {
    if (!response.sources.length) continue;
    const now = ctx ? ctx.currentTime : 0;
    for (const s of response.sources) {
      if (s.stopAt === undefined && s.at + s.duration > now) s.stopAt = Math.max(now, s.at);
      try {
        s.source.stop();
      } catch (exc) {
        /* not started yet */
      }
    }
    response.playedMs = playedMs(response);
  }
  playhead = ctx ? ctx.currentTime : 0;
}

function bargeIn() {
  // the user talks over an answer: stop it where it is, and tell revoice how much was heard
  if (!playing()) return;
  const response = current;
  response.interrupted = true;
  silence();
  const heardMs = Math.min(response.playedMs, Math.floor((response.samples * 1000) / RATE));
  response.truncatedMs = heardMs;
  response.view.parentElement.classList.add("live-interrupted");
  live.stats.bargeIns += 1;
  if (response.itemId)
    send({ type: "conversation.item.truncate", item_id: response.itemId, content_index: 0, audio_end_ms: heardMs });
}

function probe() {
  // is sound coming out? (the RMS of what the output analyser sees, while an answer plays)
  if (!output || !ctx) return;
  const played = live.stats.played;
  let total = 0;
  for (const r of live.stats.responses) {
    if (r.sources.length) r.playedMs = playedMs(r);
    total += r.playedMs;
  }
  played.seconds = total / 1000;
  if (!playing()) return;
  const data = new Float32Array(output.analyser.fftSize);
  output.analyser.getFloatTimeDomainData(data);
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i] * data[i];
  const rms = Math.sqrt(sum / data.length);
  played.polls += 1;
  if (rms > 0.01) played.loudPolls += 1;
  if (rms > played.peakRms) played.peakRms = rms;
}

ui.start.addEventListener("click", () => start());
ui.stop.addEventListener("click", () => stop());
window.addEventListener("pagehide", () => stop());
setState("off");
