// The auffusion spectrogram editor: plain JavaScript over the server's JSON API (docs/serve.md).
// No library, no network but this server.
"use strict";

const $ = (id) => document.getElementById(id);
// Uncaught errors are shown, not swallowed (the browser test also reads the list).
const pageErrors = [];
window.addEventListener("error", (event) => { pageErrors.push(String(event.message)); say(`the page failed: ${event.message}`); });
window.addEventListener("unhandledrejection", (event) => { pageErrors.push(String(event.reason)); say(`the page failed: ${event.reason}`); });
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const state = {
  info: null,        // GET /api/info
  clip: null,        // ClipSummary
  current: 0,        // version shown
  undo: [], redo: [],
  showParent: false, // A/B: false = B (current), true = A (its parent)
  zoom: 1,
  selection: null,   // {start, end, low?, high?} seconds / Hz
  picture: null,     // the spectrogram <img> of the shown version
  overlay: null,     // the heatmap <img> chosen
  job: null,
  events: null,
  loads: 0,          // counts picture and overlay loads, so that a stale one is ignored
};

// MARK: - Talking to the server

function withToken(url) {
  if (!token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = { error: text }; }
  if (!response.ok) throw new Error((body && body.error) || response.statusText);
  return body;
}

function say(text) { $("message").textContent = text || ""; }

function fileURL(name, download) {
  return withToken(`/api/clips/${state.clip.id}/files/${name}${download ? "?download=1" : ""}`);
}

// MARK: - Clips and versions

function shownVersion() {
  const version = state.clip.versions[state.current];
  if (state.showParent && version.parent !== undefined && version.parent !== null) return state.clip.versions[version.parent];
  return version;
}

// A clip with no version yet (a generation still running) cannot be shown.
function showClip(clip, number) {
  if (!clip.versions.length) return;
  if (!state.clip || state.clip.id !== clip.id) { state.selection = null; state.showParent = false; state.picture = null; describeSelection(); }
  state.clip = clip;
  $("clip-name").textContent = `${clip.name} — ${clip.format} (the model hears ${clip.canvas_seconds} s at a time; longer clips are edited in windows)`;
  $("delete-clip").disabled = false;
  if (number !== undefined) state.current = number;
  state.current = Math.min(state.current, clip.versions.length - 1);
  remember();
  renderVersions();
  loadVersion();
}

// What this tab shows and runs, kept per tab (sessionStorage) so that a reload comes back to
// it and another tab on the same server keeps its own.
function remember() {
  if (state.clip) sessionStorage.setItem("auffusion-view", JSON.stringify({ clip: state.clip.id, version: state.current }));
}

function choose(number) {
  if (number === state.current) return;
  state.undo.push(state.current);
  state.redo.length = 0;
  state.current = number;
  state.showParent = false;
  remember();
  renderVersions();
  loadVersion();
}

function renderVersions() {
  const list = $("versions");
  list.innerHTML = "";
  for (const version of state.clip.versions) {
    const item = document.createElement("li");
    item.value = version.number;
    item.dataset.number = version.number;
    const what = version.kind === "upload" ? "upload" : `${version.kind}: “${version.prompt}”`;
    item.textContent = `v${version.number} ${what}` + (version.parent !== undefined && version.parent !== null ? ` (from v${version.parent})` : "");
    if (version.number === state.current) item.className = "current";
    item.onclick = () => choose(version.number);
    list.appendChild(item);
  }
  const version = state.clip.versions[state.current];
  if (!version) return;
  $("ab-state").textContent = state.showParent ? "A (v" + version.parent + ")" : "B (v" + version.number + ")";
  $("ab").disabled = version.parent === undefined || version.parent === null;
  $("undo").disabled = state.undo.length === 0;
  $("redo").disabled = state.redo.length === 0;
  $("download").href = fileURL(version.file, true);
  $("download").setAttribute("download", version.file);
  $("plan").hidden = !version.plan;
  if (version.plan) { $("plan").href = fileURL(`v${version.number}.plan.json`, true); }
  const notes = (version.notes || []).map((note) => `<li>${escapeHTML(note)}</li>`).join("");
  $("details").innerHTML = `${version.seconds.toFixed(2)} s, ${version.sample_rate} Hz, ${version.channels} ch` +
    (version.replay ? `<br>replay: <code>${escapeHTML(version.replay)}</code>` +
      (version.parent !== undefined && version.parent !== null ? ` (beside v${version.parent}'s file)` : "") : "") +
    (notes ? `<ul>${notes}</ul>` : "");
  const overlay = $("overlay");
  overlay.innerHTML = '<option value="">none</option>';
  for (const map of version.maps || []) {
    const option = document.createElement("option");
    option.value = `v${version.number}-maps/${map.picture}`;
    option.textContent = `attention: ${map.word}`;
    overlay.appendChild(option);
  }
  state.overlay = null;
}

function loadVersion() {
  const version = shownVersion();
  const audio = $("audio");
  const wasPlaying = !audio.paused;
  const time = audio.currentTime || 0;
  audio.src = fileURL(version.file);
  audio.currentTime = Math.min(time, version.seconds);
  if (wasPlaying) audio.play();
  const load = ++state.loads;   // a later load wins, whichever finishes first
  const picture = new Image();
  picture.onload = () => { if (load === state.loads) { state.picture = picture; draw(); } };
  picture.src = fileURL(`v${version.number}.png`);
}

// Deletes the clip shown from the server, after asking; the page is then as it starts, with no clip.
async function deleteClip() {
  if (!state.clip || !confirm(`Delete “${state.clip.name}” and all its versions from the server?`)) return;
  try {
    await api(`/api/clips/${state.clip.id}`, { method: "DELETE" });
  } catch (error) {
    say(error.message);
    return;
  }
  say("");
  state.loads++;   // a picture of the deleted clip still loading is ignored when it arrives
  Object.assign(state, { clip: null, current: 0, showParent: false, selection: null, picture: null, overlay: null });
  state.undo.length = 0; state.redo.length = 0;
  sessionStorage.removeItem("auffusion-view");
  const audio = $("audio");
  audio.pause();
  audio.removeAttribute("src");
  audio.load();
  $("clip-name").textContent = "no clip yet: open one, or generate one from text below";
  $("versions").innerHTML = "";
  $("details").innerHTML = "";
  $("overlay").innerHTML = '<option value="">none</option>';
  $("download").removeAttribute("href");
  $("plan").hidden = true;
  for (const id of ["undo", "redo", "ab", "delete-clip"]) $(id).disabled = true;
  describeSelection();
  draw();
}

function escapeHTML(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

async function upload(file) {
  say("");
  $("status").textContent = `uploading ${file.name}…`;
  try {
    const clip = await api(`/api/clips?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
    state.undo.length = 0; state.redo.length = 0;
    showClip(clip, 0);
  } catch (error) {
    say(error.message);
  }
  if (!state.job) $("status").textContent = "idle";
}

// MARK: - The spectrogram

const margin = { bottom: 22 };
function duration() { return state.clip ? shownVersion().seconds : (state.info ? state.info.canvas_seconds : 1); }
function plotWidth() { return Math.round(($("scroller").clientWidth || 800) * state.zoom); }
function plotHeight() { return $("spectrogram").height - margin.bottom; }
function timeToX(seconds) { return seconds / duration() * plotWidth(); }
function xToTime(x) { return Math.max(0, Math.min(duration(), x / plotWidth() * duration())); }

// Mel rows are evenly spaced in mel; the server gives each row's centre frequency.
function rowToFrequency(row) {
  const frequencies = state.info.mel_frequencies;
  const index = Math.max(0, Math.min(frequencies.length - 1, row));
  return frequencies[Math.round(index)];
}
function yToFrequency(y) {
  const rows = state.info.mel_frequencies.length;
  return rowToFrequency((1 - y / plotHeight()) * (rows - 1));
}
function frequencyToY(hz) {
  const frequencies = state.info.mel_frequencies;
  let row = frequencies.findIndex((f) => f >= hz);
  if (row < 0) row = frequencies.length - 1;
  return (1 - row / (frequencies.length - 1)) * plotHeight();
}

function draw() {
  const canvas = $("spectrogram");
  const width = plotWidth();
  if (canvas.width !== width) canvas.width = width;
  const context = canvas.getContext("2d");
  context.fillStyle = "#000";
  context.fillRect(0, 0, canvas.width, canvas.height);
  const height = plotHeight();
  if (state.picture) {
    context.imageSmoothingEnabled = false;
    context.drawImage(state.picture, 0, 0, width, height);
  }
  if (state.overlay && state.picture) {
    // The heatmap spans what the maps were recorded on: the model's canvas, which may be longer
    // than a short clip, or the whole of a clip edited in windows. Its width in frames against
    // the spectrogram's says how long that is.
    const seconds = duration() * state.overlay.naturalWidth / state.picture.naturalWidth;
    context.globalAlpha = 0.85;
    context.drawImage(state.overlay, 0, 0, timeToX(seconds), height);
    context.globalAlpha = 1;
  }
  if (state.selection) {
    const s = state.selection;
    const top = s.high !== undefined ? frequencyToY(s.high) : 0;
    const bottom = s.low !== undefined ? frequencyToY(s.low) : height;
    context.fillStyle = "rgba(240, 180, 41, 0.25)";
    context.strokeStyle = "#f0b429";
    context.fillRect(timeToX(s.start), top, timeToX(s.end) - timeToX(s.start), bottom - top);
    context.strokeRect(timeToX(s.start), top, timeToX(s.end) - timeToX(s.start), bottom - top);
  }
  drawTimeAxis(context, width, height);
  const audio = $("audio");
  if (state.clip) {
    context.strokeStyle = "#fff";
    context.beginPath();
    context.moveTo(timeToX(audio.currentTime) + 0.5, 0);
    context.lineTo(timeToX(audio.currentTime) + 0.5, height);
    context.stroke();
  }
  drawFrequencyAxis();
}

function niceStep(span, pixels) {
  const target = span / Math.max(1, pixels / 80);
  const power = Math.pow(10, Math.floor(Math.log10(target)));
  for (const m of [1, 2, 5, 10]) if (m * power >= target) return m * power;
  return 10 * power;
}

function drawTimeAxis(context, width, height) {
  context.fillStyle = "#1d2026";
  context.fillRect(0, height, width, margin.bottom);
  context.fillStyle = "#e6e6e6";
  context.strokeStyle = "#e6e6e6";
  context.font = "11px system-ui";
  const step = niceStep(duration(), width);
  for (let t = 0; t <= duration() + 1e-9; t += step) {
    const x = Math.round(timeToX(t)) + 0.5;
    context.beginPath(); context.moveTo(x, height); context.lineTo(x, height + 5); context.stroke();
    context.fillText(`${+t.toFixed(3)} s`, x + 2, height + 16);
  }
}

function drawFrequencyAxis() {
  const canvas = $("frequency-axis");
  canvas.height = $("spectrogram").height;
  const context = canvas.getContext("2d");
  context.fillStyle = "#1d2026";
  context.fillRect(0, 0, canvas.width, canvas.height);
  if (!state.info) return;
  context.fillStyle = "#e6e6e6";
  context.strokeStyle = "#e6e6e6";
  context.font = "11px system-ui";
  for (const hz of [0, 250, 500, 1000, 2000, 4000, 8000, 16000]) {
    if (hz > state.info.maximum_frequency) break;
    const y = Math.round(frequencyToY(hz)) + 0.5;
    context.beginPath(); context.moveTo(canvas.width - 5, y); context.lineTo(canvas.width, y); context.stroke();
    context.fillText(hz >= 1000 ? `${hz / 1000}k` : `${hz}`, 4, Math.max(10, Math.min(canvas.height - 24, y + 4)));
  }
  context.fillText("Hz", 4, canvas.height - 8);
}

function describeSelection() {
  const s = state.selection;
  if (!s) { $("selection").textContent = "drag to select a time range; shift-drag for a time × frequency box"; return; }
  let text = `selected ${s.start.toFixed(2)}–${s.end.toFixed(2)} s`;
  if (s.low !== undefined) text += `, ${Math.round(s.low)}–${Math.round(s.high)} Hz`;
  $("selection").textContent = text;
}

function installSelection() {
  const canvas = $("spectrogram");
  let drag = null;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: Math.max(0, Math.min(plotHeight(), event.clientY - box.top)) };
  };
  canvas.addEventListener("pointerdown", (event) => {
    if (!state.clip) return;
    canvas.setPointerCapture(event.pointerId);
    drag = { from: point(event), box: event.shiftKey || event.altKey };
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const to = point(event);
    const [a, b] = [xToTime(drag.from.x), xToTime(to.x)].sort((p, q) => p - q);
    state.selection = { start: a, end: b };
    if (drag.box) {
      const [low, high] = [yToFrequency(drag.from.y), yToFrequency(to.y)].sort((p, q) => p - q);
      Object.assign(state.selection, { low, high });
    }
    describeSelection();
    draw();
  });
  canvas.addEventListener("pointerup", (event) => {
    if (!drag) return;
    const to = point(event);
    if (Math.abs(to.x - drag.from.x) < 3) {     // a click: move the playhead, drop the selection
      state.selection = null;
      $("audio").currentTime = xToTime(to.x);
    }
    drag = null;
    describeSelection();
    draw();
  });
}

// MARK: - Playback

function tick() {
  const audio = $("audio");
  const s = state.selection;
  if (!audio.paused && $("loop").checked && s && s.end > s.start) {
    if (audio.currentTime >= s.end || audio.currentTime < s.start) audio.currentTime = s.start;
  }
  if (!audio.paused || state.dirty) draw();
  requestAnimationFrame(tick);
}

function togglePlay() {
  const audio = $("audio");
  if (!state.clip) return;
  if (audio.paused) {
    const s = state.selection;
    if ($("loop").checked && s) audio.currentTime = s.start;
    audio.play().catch((error) => say(`cannot play: ${error.message}`));
  } else {
    audio.pause();
  }
}

// MARK: - Edits and jobs

// The starts each kind offers, its default first (docs/serve.md, "Starts").
const starts = {
  swap: [["inversion", "from its inversion (keeps the recording)"], ["sdedit", "from the clip noised (SDEdit)"]],
  reweight: [["inversion", "from its inversion (keeps the recording)"], ["sdedit", "from the clip noised (SDEdit)"]],
  restyle: [["sdedit", "from the clip noised (SDEdit)"], ["ddpm", "from its DDPM inversion (ZETA)"]],
};

function syncForm() {
  const kind = $("kind").value;
  const offered = starts[kind] || [];
  if ($("start").dataset.kind !== kind) {
    $("start").dataset.kind = kind;
    $("start").innerHTML = offered.map(([value, label]) => `<option value="${value}">${label}</option>`).join("");
  }
  $("start-row").hidden = offered.length === 0;
  syncStart();
  if (kind === "reweight") loadWords();
}

function syncStart() {
  const kind = $("kind").value, start = $("start").value;
  $("source-row").hidden = !(kind === "swap" || (kind === "restyle" && start === "ddpm"));
  $("strength-row").hidden = kind === "generate" || start === "inversion";
  const defaults = { fill: 1, restyle: 0.5, swap: 0.7, reweight: 0.7 };
  if (defaults[kind] !== undefined) { $("strength").value = defaults[kind]; $("strength-value").textContent = defaults[kind]; }
  if (state.info) $("guidance").value = (start && state.info.edit_guidance[start]) || state.info.default_guidance;
  $("weights").hidden = kind !== "reweight";
}

let wordsTimer = null;
function loadWords() {
  clearTimeout(wordsTimer);
  wordsTimer = setTimeout(async () => {
    const prompt = $("prompt").value.trim();
    const container = $("weights");
    if (!prompt || $("kind").value !== "reweight") { container.innerHTML = ""; return; }
    try {
      const result = await api(`/api/tokens?prompt=${encodeURIComponent(prompt)}`);
      container.innerHTML = "";
      for (const word of result.words) {
        const label = document.createElement("label");
        label.innerHTML = `<span>${escapeHTML(word)}</span><input type="range" min="-2" max="4" step="0.1" value="1" data-word="${escapeHTML(word)}"><output>1</output>`;
        const slider = label.querySelector("input");
        slider.oninput = () => { label.querySelector("output").textContent = slider.value; };
        container.appendChild(label);
      }
    } catch (error) { say(error.message); }
  }, 250);
}

function editRequest() {
  const kind = $("kind").value;
  const request = { kind, prompt: $("prompt").value, steps: +$("steps").value, guidance: +$("guidance").value, seed: +$("seed").value };
  if (kind !== "generate") {
    if (!state.clip) throw new Error("open a clip first, or choose “generate a new clip”");
    request.clip = state.clip.id;
    request.version = state.current;
    if (!$("start-row").hidden) request.start = $("start").value;
    if (!$("strength-row").hidden) request.strength = +$("strength").value;
  }
  if (kind === "fill") {
    const s = state.selection;
    if (!s || s.end - s.start <= 0) throw new Error("drag over the spectrogram to select the range to fill");
    request.ranges = [[+s.start.toFixed(3), +s.end.toFixed(3)]];
    if (s.low !== undefined) request.band = [Math.floor(s.low), Math.ceil(s.high)];
  }
  if (kind === "swap" || (request.start === "ddpm" && $("source").value.trim())) request.source_prompt = $("source").value;
  if (kind === "reweight") {
    request.weights = {};
    for (const slider of $("weights").querySelectorAll("input")) {
      if (+slider.value !== 1) request.weights[slider.dataset.word] = +slider.value;
    }
  }
  return request;
}

async function run(event) {
  event.preventDefault();
  say("");
  try {
    const job = await api("/api/jobs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(editRequest()) });
    follow(job.id);
  } catch (error) { say(error.message); }
}

function follow(id) {
  sessionStorage.setItem("auffusion-job", id);
  state.job = id;
  $("cancel").disabled = false;
  $("run").disabled = true;
  if (state.events) state.events.close();
  const events = new EventSource(withToken(`/api/jobs/${id}/events`));
  state.events = events;
  events.addEventListener("status", (message) => showStatus(JSON.parse(message.data)).catch((error) => say(error.message)));
  events.onerror = () => {
    // The stream ends when the job does; a dropped one is picked up again from the status.
    events.close();
    api(`/api/jobs/${id}`).then((status) => { if (!isFinal(status)) setTimeout(() => follow(id), 1000); else return showStatus(status); })
      .catch((error) => { say(error.message); finishJob(); });
  };
}

function isFinal(status) { return ["done", "failed", "cancelled"].includes(status.state); }

async function showStatus(status) {
  const progress = $("progress");
  if (status.state === "queued") {
    $("status").textContent = `queued: position ${status.position}`;
    progress.removeAttribute("value");
  } else if (status.state === "running") {
    // The work around the steps (encoding a clip, decoding and vocoding the result) has a stage
    // of its own, counted in windows, with its own time left.
    const left = status.seconds_left !== undefined ? `, ${Math.ceil(status.seconds_left)} s left` : "";
    const [done, total] = status.stage ? [status.stage_done, status.stage_total] : [status.step, status.total];
    $("status").textContent = status.stage ? `${status.stage} ${done}/${total}${left}`
      : status.step ? `step ${done}/${total}${left}` : "preparing…";
    progress.max = total || 1;
    progress.value = done || 0;
  } else if (status.state === "done") {
    $("status").textContent = `done in ${status.elapsed.toFixed(1)} s: v${status.version}`;
    progress.value = progress.max;
    finishJob();
    const clip = await api(`/api/clips/${status.clip}`);
    const open = () => {
      if (!state.clip || state.clip.id !== clip.id) { state.undo.length = 0; state.redo.length = 0; }
      else state.undo.push(state.current);
      state.redo.length = 0;
      state.showParent = false;
      showClip(clip, status.version);
    };
    // A job on another clip than the one open now (opened while it ran) does not take the page
    // away from it: its result is offered instead. A generation always opens its new clip.
    // It stays in its own place until taken, whatever messages come and go.
    if (state.clip && state.clip.id !== clip.id && status.kind !== "generate") {
      const button = document.createElement("button");
      button.textContent = `open v${status.version} of ${clip.name}`;
      button.onclick = () => { $("offer").replaceChildren(); open(); };
      $("offer").replaceChildren(`the job on ${clip.name} is done: `, button);
    } else {
      open();
    }
  } else {
    $("status").textContent = status.state === "failed" ? `failed: ${status.error}` : "cancelled";
    progress.value = 0;
    finishJob();
  }
}

function finishJob() {
  sessionStorage.removeItem("auffusion-job");
  state.job = null;
  if (state.events) { state.events.close(); state.events = null; }
  $("cancel").disabled = true;
  $("run").disabled = false;
}

async function cancel() {
  if (!state.job) return;
  try { await api(`/api/jobs/${state.job}`, { method: "DELETE" }); } catch (error) { say(error.message); }
}

// MARK: - Start

async function start() {
  try {
    state.info = await api("/api/info");
  } catch (error) {
    say(error.message);
    return;
  }
  $("steps").value = 25;
  $("steps").max = state.info.max_steps;
  $("guidance").value = state.info.default_guidance;
  $("file").onchange = (event) => { if (event.target.files[0]) upload(event.target.files[0]); };
  $("play").onclick = togglePlay;
  const audio = $("audio");
  audio.onplay = () => { $("play").textContent = "❚❚ Pause"; };
  audio.onpause = () => { $("play").textContent = "▶ Play"; draw(); };
  audio.onended = audio.onpause;
  $("zoom-in").onclick = () => { state.zoom = Math.min(64, state.zoom * 2); draw(); };
  $("zoom-out").onclick = () => { state.zoom = Math.max(1, state.zoom / 2); draw(); };
  $("scroller").addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return;
    event.preventDefault();
    state.zoom = Math.max(1, Math.min(64, state.zoom * (event.deltaY < 0 ? 1.25 : 0.8)));
    draw();
  }, { passive: false });
  $("kind").onchange = syncForm;
  $("start").onchange = syncStart;
  $("prompt").oninput = () => { if ($("kind").value === "reweight") loadWords(); };
  $("strength").oninput = () => { $("strength-value").textContent = $("strength").value; };
  $("edit").onsubmit = run;
  $("cancel").onclick = cancel;
  $("delete-clip").onclick = deleteClip;
  // Undo and redo move along the versions chosen, never deleting one.
  const step = (from, to) => () => {
    if (!state.clip || !from.length) return;
    to.push(state.current);
    state.current = from.pop();
    state.showParent = false;
    remember();
    renderVersions(); loadVersion();
  };
  $("undo").onclick = step(state.undo, state.redo);
  $("redo").onclick = step(state.redo, state.undo);
  $("ab").onclick = () => { if (!state.clip) return; state.showParent = !state.showParent; renderVersions(); loadVersion(); };
  $("overlay").onchange = () => {
    const name = $("overlay").value;
    if (!name) { state.overlay = null; draw(); return; }
    const load = ++state.loads, version = state.current;
    const picture = new Image();
    picture.onload = () => { if (load === state.loads && version === state.current) { state.overlay = picture; draw(); } };
    picture.src = fileURL(name);
  };
  document.addEventListener("keydown", (event) => {
    if (event.target.tagName === "INPUT" || event.target.tagName === "SELECT") return;
    if (event.key === " ") { event.preventDefault(); togglePlay(); }
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") { event.preventDefault(); $(event.shiftKey ? "redo" : "undo").click(); }
  });
  window.addEventListener("resize", draw);
  installSelection();
  syncForm();
  draw();
  requestAnimationFrame(tick);
  const view = JSON.parse(sessionStorage.getItem("auffusion-view") || "null");
  if (view) {
    try { showClip(await api(`/api/clips/${view.clip}`), view.version); } catch (_) { sessionStorage.removeItem("auffusion-view"); }
  }
  const pending = sessionStorage.getItem("auffusion-job");
  if (pending) {
    try {
      const status = await api(`/api/jobs/${pending}`);
      if (!state.clip && status.clip) {
        try { showClip(await api(`/api/clips/${status.clip}`), 0); } catch (_) { /* its clip is gone */ }
      }
      // A job that ended while the page reloaded shows its result, as if it had been followed.
      if (!isFinal(status)) follow(pending); else await showStatus(status);
    } catch (_) { sessionStorage.removeItem("auffusion-job"); }
  }
}

start();
