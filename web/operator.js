// The operator page: streams, recent files and live rooms from the admin API, refreshed every
// 5 s. The admin token is asked once and kept in sessionStorage (this tab only).
"use strict";
const KEY = "roomstream-admin-token";
const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem(KEY); }

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
  if (response.status === 401 || response.status === 403) throw Object.assign(new Error("the admin token was refused"), { auth: true });
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "—" : String(text);
  if (className) td.className = className;
  return td;
}

function seconds(value) {
  if (!value) return "0 s";
  if (value < 120) return value + " s";
  if (value < 7200) return Math.round(value / 60) + " min";
  return (value / 3600).toFixed(1) + " h";
}

function bytes(value) {
  if (value < 1024) return value + " B";
  if (value < 1048576) return (value / 1024).toFixed(1) + " KiB";
  return (value / 1048576).toFixed(1) + " MiB";
}

function destination(d) {
  if (!d) return "";
  return d.type === "s3" ? "s3 " + d.endpoint + " / " + d.bucket + (d.prefix ? "/" + d.prefix : "") : "directory " + d.path;
}

function renderStreams(streams) {
  const body = $("streams").tBodies[0];
  body.replaceChildren();
  for (const s of streams) {
    const row = body.insertRow();
    cell(row, s.id + " (" + s.interval_minutes + " min)");
    cell(row, destination(s.destination));
    const failing = (s.files_by_state.retrying || 0) > 0 || s.last_error;
    cell(row, s.paused ? "paused" : failing ? "failing" : "ok", s.paused ? "warn" : failing ? "error" : "ok");
    cell(row, seconds(s.seal_lag_seconds), s.seal_lag_seconds > 600 ? "num warn" : "num");
    cell(row, seconds(s.delivery_lag_seconds), s.delivery_lag_seconds > 1800 ? "num error" : "num");
    cell(row, new Date(s.next_seal_time).toLocaleString());
    cell(row, Object.entries(s.files_by_state).filter(([, n]) => n > 0).map(([state, n]) => n + " " + state).join(", ") || "none");
    cell(row, s.last_error, s.last_error ? "error" : "muted");
  }
}

async function download(stream, file) {
  const response = await fetch("/v1/streams/" + encodeURIComponent(stream) + "/files/" + encodeURIComponent(file), { headers: { Authorization: "Bearer " + token() } });
  if (!response.ok) { alert("download failed: HTTP " + response.status); return; }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = file;  // gzip files arrive as gzip files (application/gzip)
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function renderFiles(files) {
  const body = $("files").tBodies[0];
  body.replaceChildren();
  for (const f of files) {
    const row = body.insertRow();
    cell(row, f.stream);
    cell(row, new Date(f.window.start).toLocaleString() + " – " + new Date(f.window.end).toLocaleTimeString());
    cell(row, f.state, f.state === "uploaded" ? "ok" : f.state === "retrying" ? "error" : "warn");
    cell(row, f.rooms, "num");
    cell(row, bytes(f.bytes), "num");
    const button = document.createElement("button");
    button.textContent = "Download";
    button.addEventListener("click", () => download(f.stream, f.file));
    row.insertCell().append(button);
  }
  if (!files.length) cell(body.insertRow(), "no files yet", "muted").colSpan = 6;
}

function renderRooms(rooms) {
  const body = $("rooms").tBodies[0];
  body.replaceChildren();
  $("room-count").textContent = "(" + rooms.length + ")";
  for (const r of rooms) {
    const row = body.insertRow();
    cell(row, r.room_id);
    cell(row, new Date(r.start_time).toLocaleTimeString());
    cell(row, r.users, "num");
    cell(row, r.stats && r.stats.mos, "num");
    cell(row, (r.peers || []).map((p) => p.peer_id + " (" + [p.browser, p.os, p.features && p.features.connection_type].filter(Boolean).join(", ") +
      (p.stats && p.stats.mos !== null ? ", MOS " + p.stats.mos : "") + ")").join("; "));
  }
  if (!rooms.length) cell(body.insertRow(), "no live rooms", "muted").colSpan = 5;
}

async function refresh() {
  try {
    const [streams, rooms] = await Promise.all([api("/v1/streams"), api("/v1/rooms?state=live&limit=100")]);
    renderStreams(streams.streams);
    const pages = await Promise.all(streams.streams.map((s) => api("/v1/streams/" + encodeURIComponent(s.id) + "/files?limit=1000")));
    const files = pages.flatMap((p) => p.files).sort((a, b) => b.window.start.localeCompare(a.window.start)).slice(0, 20);
    renderFiles(files);
    renderRooms(rooms.rooms);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (error) {
    if (error.auth) { sessionStorage.removeItem(KEY); showLogin(error.message); return; }
    $("updated").textContent = "refresh failed: " + error.message;
  }
}

let interval = null;
function showLogin(message) {
  clearInterval(interval);
  $("main").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

function start() {
  $("login").hidden = true;
  $("main").hidden = false;
  $("logout").hidden = false;
  refresh();
  clearInterval(interval);
  interval = setInterval(refresh, 5000);
}

document.addEventListener("DOMContentLoaded", () => {
  fetch("/v1/version").then((r) => r.json()).then((v) => { $("version").textContent = "v" + v.version; }).catch(() => {});
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value);
    start();
  });
  $("logout").addEventListener("click", () => { sessionStorage.removeItem(KEY); showLogin(); });
  if (token()) start(); else showLogin();
});
