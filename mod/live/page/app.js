// The live view page: status over server-sent events, the image as PNG, the controls as POSTs.
const token = new URLSearchParams(location.search).get("token") ?? "";
const $ = (id) => document.getElementById(id);
const withToken = (path) => `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;

/** A POST to the API; a refusal's one line goes to the banner. */
async function post(path, body) {
  try {
    const r = await fetch(path, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? "" : JSON.stringify(body),
    });
    if (!r.ok) showBanner(`${path}: ${(await r.text()).trim()}`);
    else onStatus(await r.json());
  } catch {
    showBanner("The master does not answer");
  }
}

function showBanner(text) {
  $("banner").textContent = text;
  $("banner").hidden = !text;
}

// --- status ---------------------------------------------------------------------------------------------

let last; // the last status
let masterStopped = false;

function formatRate(x) {
  if (!(x > 0)) return "0";
  const units = [[1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [n, u] of units) if (x >= n) return `${(x / n).toFixed(1)} ${u}`;
  return x.toFixed(0);
}

function formatSeconds(s) {
  if (s === null || !Number.isFinite(s)) return "–";
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function onStatus(s) {
  last = s;
  $("scene").textContent = s.scene;
  const state = $("state");
  state.textContent = s.state;
  state.className = `badge ${s.state}`;
  $("progress").textContent = `${s.spp.done.toFixed(1)} / ${s.spp.target} spp · ${
    formatRate(s.samplesPerSecond)
  }samples/s · ETA ${formatSeconds(s.etaSeconds)} · ${s.width}×${s.height}`;
  $("pause").textContent = s.state === "paused" ? "Resume" : "Pause";
  if (document.activeElement !== $("spp")) $("spp").value = String(s.spp.target);
  if (!dragging && !pendingCamera) showCamera(s.camera);
  nodesTable(s.nodes);
  daemonsTable(s.daemons);
  denoiseInfo(s.denoise);
  refreshImage(s);
  if (s.state === "stopped") {
    masterStopped = true;
    state.textContent = "stopped";
    showBanner(
      "The master stopped (its outputs are written); this page reconnects when a master starts here",
    );
  }
}

function nodesTable(nodes) {
  const body = $("nodes").tBodies[0];
  body.replaceChildren();
  for (const n of nodes) {
    const row = body.insertRow();
    if (n.state === "left" || n.state === "stopped") row.className = "left";
    cell(row, n.id === "local" ? `${n.host} (master)` : `${n.host} (${n.id})`);
    cell(row, n.gpus.join(", "), "gpus");
    cell(row, n.left ? `left: ${n.left}` : n.state);
    cell(row, formatRate(n.samplesPerSecond));
    cell(row, `${(100 * n.share).toFixed(1)} %`);
    cell(row, n.upload.total > 0 ? `${Math.round(100 * n.upload.sent / n.upload.total)} %` : "–");
    cell(row, n.secondsSinceResult === null ? "–" : `${formatSeconds(n.secondsSinceResult)} ago`);
  }
}

let shownDaemons = "";

/** The daemon list, rebuilt only when it changed (a click on a switch must not land on a replaced one). */
function daemonsTable(daemons) {
  $("daemons-panel").hidden = !daemons;
  const json = JSON.stringify(daemons);
  if (!daemons || json === shownDaemons) return;
  shownDaemons = json;
  $("scan").textContent = `Scanning ${
    daemons.subnets.join(", ")
  } on port ${daemons.port} every ${daemons.interval} s`;
  const body = $("daemons").tBodies[0];
  body.replaceChildren();
  for (const d of daemons.list) {
    const row = body.insertRow();
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = d.enabled;
    box.title = d.enabled ? "Stop this daemon's slave" : "Start a slave on this daemon";
    box.dataset.address = d.address;
    box.addEventListener("change", () => post("/api/daemons", { address: d.address, enabled: box.checked }));
    row.insertCell().append(box);
    cell(row, d.address);
    cell(row, d.host ?? "–");
    cell(row, d.gpus.join(", "), "gpus");
    cell(row, d.version ?? "–");
    cell(row, d.state);
  }
  if (daemons.list.length === 0) cell(body.insertRow(), "none found").colSpan = 6;
}

// --- log ------------------------------------------------------------------------------------------------

let logSeq = 0;
let logBusy = false;

async function refreshLog() {
  if (logBusy) return;
  logBusy = true;
  try {
    const r = await fetch(`/api/log?after=${logSeq}`, { headers: { authorization: `Bearer ${token}` } });
    if (!r.ok) return;
    const pre = $("log");
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    for (const line of await r.json()) {
      const span = document.createElement("span");
      span.className = line.level;
      span.textContent = `${line.text}\n`;
      pre.append(span);
      logSeq = line.seq;
    }
    while (pre.childNodes.length > 500) pre.firstChild.remove();
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  } catch {
    // the master is gone: the event stream says so
  } finally {
    logBusy = false;
  }
}

// --- the image ------------------------------------------------------------------------------------------

let shownKey = "";
let shownView = "";
let loadedAt = 0;
let loading = false;

/**
 * Loads the image again when samples arrived (at most once a second) or at once when the view changed
 * (camera, exposure, a restart); one load at a time.
 */
function refreshImage(s) {
  const denoise = $("denoise").checked;
  const view = `${s.spp.target}/${$("exposure").value}/${cameraKey(s.camera)}/${denoise}`;
  // denoised: a new image when samples arrived (asking is what makes the master denoise) or a denoise is done
  const key = `${s.spp.done}/${view}/${denoise ? s.denoise?.spp : ""}`;
  if (loading || key === shownKey) return;
  const shownSpp = Number(shownKey.split("/")[0]);
  // a new view, a restart, or a black image shown: load now
  const now = view !== shownView || s.spp.done < shownSpp || shownSpp === 0;
  if (!now && performance.now() - loadedAt < 1000) return;
  loading = true;
  const next = new Image();
  next.onload = () => {
    $("image").src = next.src;
    $("image").dataset.spp = String(s.spp.done); // what it shows, for a person's inspector and the tests
    $("image").dataset.camera = cameraKey(s.camera);
    $("image").dataset.denoised = String(denoise && s.denoise?.state !== "unavailable");
    shownKey = key;
    shownView = view;
    loadedAt = performance.now();
    loading = false;
  };
  next.onerror = () => (loading = false);
  next.src = withToken(
    `/api/image.png?exposure=${$("exposure").value}${denoise ? "&denoise=1" : ""}&t=${Date.now()}`,
  );
}

/** What the denoise toggle shows: the denoised image's spp and time, or why there is none. */
function denoiseInfo(d) {
  const out = $("denoise-info");
  $("denoise").disabled = !d;
  if (!d || !$("denoise").checked) return (out.textContent = "");
  out.textContent = d.state === "unavailable"
    ? "unavailable"
    : d.spp === null
    ? "denoising…"
    : `${d.spp.toFixed(1)} spp, ${(d.ms / 1000).toFixed(1)} s`;
  out.title = d.message ?? "";
}

$("denoise").addEventListener("change", () => {
  if (last) denoiseInfo(last.denoise), refreshImage(last);
});

$("exposure").addEventListener("input", () => {
  $("exposure-value").textContent = `${$("exposure").value} EV`;
  if (last) refreshImage(last);
});

function applyZoom() {
  const z = $("zoom").value;
  const img = $("image");
  $("viewport").classList.toggle("fit", z === "fit");
  img.classList.toggle("pixelated", z !== "fit" && Number(z) > 1);
  img.style.width = z === "fit" ? "" : `${img.naturalWidth * Number(z)}px`;
}
$("zoom").addEventListener("change", applyZoom);
$("image").addEventListener("load", applyZoom);

// --- the camera -----------------------------------------------------------------------------------------

let camera; // what the page shows and moves: { position, target, up, fov, ... }
let dragging;
let pendingCamera = false;
let sendTimer;

const sub = (a, b) => a.map((x, i) => x - b[i]);
const add = (a, b) => a.map((x, i) => x + b[i]);
const scale = (a, k) => a.map((x) => x * k);
const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a) => scale(a, 1 / Math.hypot(...a));

/** Rotates v about unit axis k by angle a (Rodrigues). */
function rotate(v, k, a) {
  const c = Math.cos(a), s = Math.sin(a);
  return add(add(scale(v, c), scale(cross(k, v), s)), scale(k, dot(k, v) * (1 - c)));
}

const cameraKey = (c) => (c ? JSON.stringify([c.position, c.target, c.up, c.fov]) : "");

function showCamera(c) {
  if (!c) return;
  camera = structuredClone(c);
  $("fov").value = String(Math.round(c.fov));
  $("fov-value").textContent = `${c.fov.toFixed(0)}°`;
  $("save-camera").href = withToken("/api/camera?download");
}

/** Sends the camera at most every 200 ms while it moves, and once more when it stops. */
function sendCamera() {
  pendingCamera = true;
  if (sendTimer) return;
  sendTimer = setTimeout(async () => {
    sendTimer = undefined;
    const c = camera;
    await post("/api/camera", {
      position: c.position,
      target: c.target,
      up: c.up,
      fov: c.fov,
      ...(c.lensRadius ? { lensRadius: c.lensRadius, focusDistance: c.focusDistance } : {}),
    });
    if (!sendTimer) pendingCamera = false;
  }, 200);
}

const viewport = $("viewport");
viewport.addEventListener("contextmenu", (e) => e.preventDefault());
viewport.addEventListener("pointerdown", (e) => {
  if (!camera) return;
  dragging = { x: e.clientX, y: e.clientY, pan: e.shiftKey || e.button === 2 };
  viewport.setPointerCapture(e.pointerId);
  viewport.classList.add("dragging");
});
viewport.addEventListener("pointermove", (e) => {
  if (!dragging) return;
  const dx = e.clientX - dragging.x, dy = e.clientY - dragging.y;
  dragging.x = e.clientX, dragging.y = e.clientY;
  if (dx === 0 && dy === 0) return;
  const c = camera;
  const offset = sub(c.position, c.target);
  const forward = norm(scale(offset, -1));
  const up = norm(c.up);
  const right = norm(cross(forward, up));
  if (dragging.pan) {
    const h = $("image").clientHeight || 512;
    const k = 2 * Math.hypot(...offset) * Math.tan(c.fov * Math.PI / 360) / h;
    const move = add(scale(right, -dx * k), scale(norm(cross(right, forward)), dy * k));
    c.position = add(c.position, move);
    c.target = add(c.target, move);
  } else {
    let o = rotate(offset, up, -dx * 0.008);
    const pitched = rotate(o, norm(cross(norm(scale(o, -1)), up)), -dy * 0.008);
    // never over the pole: the view may not turn parallel to up
    if (Math.abs(dot(norm(pitched), up)) < 0.995) o = pitched;
    c.position = add(c.target, o);
  }
  sendCamera();
});
const endDrag = () => {
  dragging = undefined;
  viewport.classList.remove("dragging");
};
viewport.addEventListener("pointerup", endDrag);
viewport.addEventListener("pointercancel", endDrag);
viewport.addEventListener("wheel", (e) => {
  if (!camera) return;
  e.preventDefault();
  const offset = sub(camera.position, camera.target);
  camera.position = add(camera.target, scale(offset, Math.exp(Math.sign(e.deltaY) * 0.1)));
  sendCamera();
}, { passive: false });

$("fov").addEventListener("input", () => {
  if (!camera) return;
  camera.fov = Number($("fov").value);
  $("fov-value").textContent = `${camera.fov}°`;
  sendCamera();
});

/** Fits the scene's bounds in view, or, from inside them, looks from their centre along the view. */
$("frame").addEventListener("click", () => {
  const b = last?.bounds;
  if (!camera || !b) return;
  const centre = scale(add(b.min, b.max), 0.5);
  const radius = Math.hypot(...sub(b.max, b.min)) / 2;
  const forward = norm(sub(camera.target, camera.position));
  const inside = camera.position.every((p, i) => p > b.min[i] && p < b.max[i]);
  if (inside) {
    camera.position = centre;
    camera.target = add(centre, scale(forward, radius / 2));
  } else {
    const distance = radius / Math.sin(camera.fov * Math.PI / 360);
    camera.target = centre;
    camera.position = sub(centre, scale(forward, distance));
  }
  sendCamera();
});

// --- controls -------------------------------------------------------------------------------------------

$("pause").addEventListener("click", () => post(last?.state === "paused" ? "/api/resume" : "/api/pause"));
$("restart").addEventListener("click", () => post("/api/restart"));
$("set-spp").addEventListener("click", () => post("/api/restart", { spp: Number($("spp").value) }));
$("stop").addEventListener("click", () => {
  if (confirm("Stop the render and write the image now?")) post("/api/stop");
});

// --- the connection -------------------------------------------------------------------------------------

let events;

function connect() {
  events = new EventSource(withToken("/api/events"));
  events.onopen = () => {
    if (masterStopped) shownKey = "";
    masterStopped = false;
    showBanner("");
  };
  events.onmessage = (m) => onStatus(JSON.parse(m.data));
  events.onerror = async () => {
    events.close();
    $("state").className = "badge lost";
    if (!masterStopped) {
      $("state").textContent = "disconnected";
      showBanner("Lost the master: reconnecting…");
    }
    try {
      const r = await fetch("/api/status", { headers: { authorization: `Bearer ${token}` } });
      if (r.status === 401) {
        showBanner("The master on this port has another token: open the URL it printed");
      }
    } catch {
      // nothing listens: try again
    }
    setTimeout(connect, 2000);
  };
}

connect();
setInterval(refreshLog, 1000);
