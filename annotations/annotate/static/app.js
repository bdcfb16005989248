// OmniDiff annotation page. Every change is sent to the server as it is made; the status turns
// "saved" only when the server answers, which it does after the entry is fsync'd to the log.
"use strict";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "-", "="];
const VIEWS = ["side", "flicker", "slider"];
const CAPTION_DEBOUNCE_MS = 700;
const RETRY_DELAYS_MS = [500, 1500, 4000];

const $ = (id) => document.getElementById(id);
const state = {
  meta: null,
  queue: [],
  pairId: null,
  pair: null,
  basedOnSeq: null,
  dirty: false,
  saveChain: Promise.resolve(),
  captionTimer: null,
  view: "side",
  flickerTimer: null,
  clientId: (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).slice(0, 36),
};

function setStatus(kind, text) {
  const el = $("save-status");
  el.className = "status " + kind;
  el.dataset.state = kind;
  el.dataset.pending = state.dirty ? "1" : "0";
  el.textContent = text;
}

async function getJSON(url) {
  const res = await fetch(url, { cache: "no-store" });
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function wordCount(text) {
  const words = text.trim().split(/\s+/).filter(Boolean);
  return words.length;
}

function updateWordCount() {
  const n = wordCount($("caption").value);
  const el = $("word-count");
  el.textContent = `${n} word${n === 1 ? "" : "s"} (aim for about 60)`;
  el.classList.toggle("short", n > 0 && n < 30);
  el.dataset.words = String(n);
}

function formState() {
  const types = [...document.querySelectorAll("#types input:checked")].map((i) => i.value);
  const caption = $("caption").value.trim();
  return { change_types: types, captions: caption ? [caption] : [] };
}

// -- saving ---------------------------------------------------------------------------------
function markDirty() {
  state.dirty = true;
  $("save-status").dataset.pending = "1";
}

function requestSave() {
  markDirty();
  state.saveChain = state.saveChain.then(saveNow);
  return state.saveChain;
}

// the session token proves the save comes from this page (another origin cannot read /api/meta)
function saveHeaders() {
  return { "Content-Type": "application/json", "X-OmniDiff-Session": state.meta.session };
}

async function saveNow() {
  if (!state.dirty || !state.pairId) return;
  const annotator = $("annotator").value.trim();
  if (!annotator) {
    setStatus("error", "NOT saved: enter your annotator name");
    $("annotator").focus();
    return;
  }
  const pairId = state.pairId;
  const body = { pair_id: pairId, annotator, client_id: state.clientId, based_on_seq: state.basedOnSeq, ...formState() };
  state.dirty = false;
  setStatus("saving", "saving…");
  for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length; attempt++) {
    try {
      const res = await fetch("/api/annotations", {
        method: "POST",
        headers: saveHeaders(),
        body: JSON.stringify(body),
      });
      const data = await res.json();
      if (!res.ok) {
        state.dirty = state.dirty || pairId === state.pairId;
        setStatus("error", "NOT saved: " + (data.error || res.statusText));
        return;  // a refusal (bad input) is not retried: the annotator must fix it
      }
      afterSave(pairId, data);
      return;
    } catch (err) {
      if (attempt === RETRY_DELAYS_MS.length) {
        if (pairId === state.pairId) state.dirty = true;
        setStatus("error", "NOT saved (server unreachable): your work is still on the page; press Ctrl+S to retry");
        return;
      }
      setStatus("saving", `server unreachable, retrying (${attempt + 1}/${RETRY_DELAYS_MS.length})…`);
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
    }
  }
}

function afterSave(pairId, data) {
  const entry = data.entry;
  if (pairId === state.pairId) {
    state.basedOnSeq = entry.seq;
    if (state.pair) state.pair.history.push(entry);
    renderHistory();
    const others = data.saved_by_others_since_load || [];
    const banner = $("conflict");
    if (others.length) {
      const who = [...new Set(others.map((e) => e.annotator))].join(", ");
      banner.textContent = `${who} also saved this pair since you opened it; both versions are kept in the history below, yours is now the latest.`;
      banner.hidden = false;
    }
  }
  const item = state.queue.find((q) => q.pair_id === pairId);
  if (item) item.annotated = true;
  renderQueue();
  const t = new Date(entry.time).toLocaleTimeString();
  setStatus("saved", `saved #${entry.seq} at ${t}`);
  $("save-status").dataset.seq = String(entry.seq);
}

// -- rendering ------------------------------------------------------------------------------
function renderTypes() {
  const box = $("types");
  state.meta.change_types.forEach((t, i) => {
    const label = document.createElement("label");
    label.title = t.definition;
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = t.key;
    input.id = "type-" + t.key;
    input.addEventListener("change", requestSave);
    const kbd = document.createElement("kbd");
    kbd.textContent = KEYS[i];
    label.append(input, " ", kbd, " " + t.key);
    box.append(label);
  });
}

function renderQueue() {
  const list = $("queue");
  list.replaceChildren();
  for (const q of state.queue) {
    const li = document.createElement("li");
    li.textContent = q.pair_id;
    li.dataset.pairId = q.pair_id;
    li.classList.toggle("done", q.annotated);
    li.classList.toggle("current", q.pair_id === state.pairId);
    li.addEventListener("click", () => goTo(q.pair_id));
    list.append(li);
  }
  const done = state.queue.filter((q) => q.annotated).length;
  $("progress").textContent = `${done}/${state.queue.length} annotated`;
}

function renderHistory() {
  const list = $("history");
  list.replaceChildren();
  const entries = state.pair ? [...state.pair.history].reverse() : [];
  for (const e of entries) {
    const li = document.createElement("li");
    const caption = (e.captions[0] || "").slice(0, 90);
    li.textContent = `#${e.seq} ${e.annotator} ${new Date(e.time).toLocaleString()}: [${e.change_types.join(", ")}] ${caption}`;
    list.append(li);
  }
  if (!entries.length) list.innerHTML = "<li>none yet</li>";
}

function imageUrl(which) {
  return `/api/image?id=${encodeURIComponent(state.pairId)}&which=${which}`;
}

function renderImages() {
  const hasMask = state.pair.has_mask;
  $("show-mask").disabled = !hasMask;
  $("img-before").src = imageUrl("before");
  $("img-after").src = imageUrl("after");
  $("slider-before").src = imageUrl("before");
  $("slider-after").src = imageUrl("after");
  for (const id of ["img-mask", "flicker-mask", "slider-mask"]) {
    const el = $(id);
    if (hasMask) el.src = imageUrl("mask"); else el.removeAttribute("src");
  }
  applyMask();
  setView(state.view);
}

function applyMask() {
  const on = $("show-mask").checked && state.pair && state.pair.has_mask;
  for (const id of ["img-mask", "flicker-mask", "slider-mask"]) $(id).classList.toggle("off", !on);
}

function setView(view) {
  state.view = view;
  for (const v of VIEWS) $("view-" + v).hidden = v !== view;
  document.querySelectorAll(".view-btn").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
  clearInterval(state.flickerTimer);
  if (view === "flicker" && state.pair) {
    let after = false;
    const tick = () => {
      $("flicker-img").src = imageUrl(after ? "after" : "before");
      $("flicker-label").textContent = after ? "after" : "before";
      $("flicker-mask").style.visibility = after ? "visible" : "hidden";
      after = !after;
    };
    tick();
    state.flickerTimer = setInterval(tick, 600);
  }
}

function fillForm() {
  const types = new Set(state.pair.change_types);
  document.querySelectorAll("#types input").forEach((i) => { i.checked = types.has(i.value); });
  $("caption").value = state.pair.captions[0] || "";
  updateWordCount();
  $("pair-id").textContent = state.pair.pair_id;
  const proposed = state.pair.has_mask ? (state.pair.mask_is_proposed ? "mask: proposed" : "mask: given") : "no mask";
  $("pair-meta").textContent = `scene ${state.pair.scene_id} · ${state.pair.split} · ${state.pair.setting || "?"} · ${proposed}`;
}

// -- navigation -----------------------------------------------------------------------------
async function flush() {
  clearTimeout(state.captionTimer);
  if (state.dirty) state.saveChain = state.saveChain.then(saveNow);
  await state.saveChain;
}

async function goTo(pairId) {
  await flush();
  const pair = await getJSON(`/api/pair?id=${encodeURIComponent(pairId)}`);
  state.pairId = pairId;
  state.pair = pair;
  state.basedOnSeq = pair.latest_seq;
  state.dirty = false;
  $("conflict").hidden = true;
  history.replaceState(null, "", "#" + encodeURIComponent(pairId));
  fillForm();
  renderImages();
  renderHistory();
  renderQueue();
  setStatus(pair.latest_seq ? "saved" : "idle", pair.latest_seq ? `loaded #${pair.latest_seq}` : "not annotated yet");
}

function step(delta) {
  const ids = state.queue.map((q) => q.pair_id);
  const i = ids.indexOf(state.pairId);
  const next = ids[Math.min(ids.length - 1, Math.max(0, i + delta))];
  if (next && next !== state.pairId) goTo(next);
}

function nextUnannotated() {
  const ids = state.queue.map((q) => q.pair_id);
  const start = ids.indexOf(state.pairId);
  for (let k = 1; k <= ids.length; k++) {
    const q = state.queue[(start + k) % ids.length];
    if (!q.annotated && q.pair_id !== state.pairId) return goTo(q.pair_id);
  }
  step(1);
}

// -- keyboard -------------------------------------------------------------------------------
function onKey(ev) {
  const typing = ev.target === $("caption") || ev.target === $("annotator");
  if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "s") {
    ev.preventDefault();
    requestSave();
    return;
  }
  if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") {
    ev.preventDefault();
    nextUnannotated();
    return;
  }
  if (typing) {
    if (ev.key === "Escape") ev.target.blur();
    return;
  }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const idx = KEYS.indexOf(ev.key);
  if (idx >= 0) {
    const box = document.querySelectorAll("#types input")[idx];
    if (box) { box.checked = !box.checked; requestSave(); }
    ev.preventDefault();
    return;
  }
  const actions = {
    v: () => setView(VIEWS[(VIEWS.indexOf(state.view) + 1) % VIEWS.length]),
    f: () => setView("flicker"),
    s: () => setView("slider"),
    b: () => setView("side"),
    m: () => { $("show-mask").checked = !$("show-mask").checked; applyMask(); },
    n: nextUnannotated,
    p: () => step(-1),
    c: () => $("caption").focus(),
    Enter: () => $("caption").focus(),
  };
  if (actions[ev.key]) { ev.preventDefault(); actions[ev.key](); }
}

// -- start ----------------------------------------------------------------------------------
async function start() {
  state.meta = await getJSON("/api/meta");
  $("store-name").textContent = state.meta.store;
  const guide = $("guidelines");
  for (const g of state.meta.guidelines) { const li = document.createElement("li"); li.textContent = g; guide.append(li); }
  $("annotator").value = localStorage.getItem("omnidiff-annotator") || state.meta.annotator || "";
  $("annotator").addEventListener("change", () => {
    localStorage.setItem("omnidiff-annotator", $("annotator").value.trim());
    if (state.dirty) requestSave();
  });
  renderTypes();
  $("caption").addEventListener("input", () => {
    updateWordCount();
    markDirty();
    clearTimeout(state.captionTimer);
    state.captionTimer = setTimeout(requestSave, CAPTION_DEBOUNCE_MS);
  });
  $("caption").addEventListener("blur", () => { if (state.dirty) { clearTimeout(state.captionTimer); requestSave(); } });
  $("show-mask").addEventListener("change", applyMask);
  $("slider").addEventListener("input", (e) => {
    $("slider-clip").style.clipPath = `inset(0 0 0 ${e.target.value}%)`;
    $("slider-line").style.left = `${e.target.value}%`;
  });
  document.querySelectorAll(".view-btn").forEach((b) => b.addEventListener("click", () => setView(b.dataset.view)));
  $("prev-btn").addEventListener("click", () => step(-1));
  $("next-btn").addEventListener("click", nextUnannotated);
  $("save-btn").addEventListener("click", requestSave);
  document.addEventListener("keydown", onKey);
  window.addEventListener("beforeunload", (ev) => {
    if (state.dirty) { ev.preventDefault(); ev.returnValue = ""; }
  });
  window.addEventListener("pagehide", () => {
    // Last chance for a change typed within the debounce window (best effort, not acknowledged).
    if (!state.dirty || !state.pairId || !$("annotator").value.trim()) return;
    const body = { pair_id: state.pairId, annotator: $("annotator").value.trim(), client_id: state.clientId,
                   based_on_seq: state.basedOnSeq, ...formState() };
    fetch("/api/annotations", { method: "POST", keepalive: true, headers: saveHeaders(),
                                body: JSON.stringify(body) });
  });
  const q = await getJSON("/api/queue");
  state.queue = q.pairs;
  renderQueue();
  const wanted = decodeURIComponent(location.hash.slice(1));
  const first = state.queue.find((p) => p.pair_id === wanted) || state.queue[0];
  if (first) await goTo(first.pair_id);
  else setStatus("idle", "this store has no pairs");
  document.body.dataset.ready = "1";
}

start().catch((err) => setStatus("error", "cannot load: " + err.message));
