/*! roomstream SDK 1.0.0: WebRTC getStats() collection for a roomstream service.
 * One dependency-free file: a plain <script> (global `roomstream`), or an ES module from
 * /sdk/roomstream.mjs (the same file with `export default roomstream`). docs/sdk.md.
 * Wire format: ingest-api.md (POST /v1/rooms/{room}/peers/{peer}/samples). */
(function (global) {
  "use strict";
  var VERSION = "1.0.0";
  var NativePC = global.RTCPeerConnection;
  var config = null;      // init() options
  var seq = 0;            // per peer, increasing (the service drops repeats)
  var pcCount = 0;
  var pcs = [];           // { id, pc, closed }
  var events = [];        // waiting for the next batch
  var pendingKeys = {};
  var rating = null;
  var queue = [];         // batches (objects) not yet accepted, oldest first
  var queuedBytes = 0;
  var dropped = 0;        // batches dropped at the buffer bound (counted, see stats())
  var sending = false;
  var retryAt = 0, backoffMs = 0;
  var timer = null;
  var left = false;
  var devices = {};
  var userAgent = null;   // sent once: the User-Agent with the full browser version

  function now() { return Date.now(); }

  function url(path, withKey) {
    var base = config.url.replace(/\/+$/, "");
    var u = base + "/v1/rooms/" + encodeURIComponent(config.roomId) + "/peers/" + encodeURIComponent(config.peerId) + path;
    return withKey ? u + "?key=" + encodeURIComponent(config.key) : u;
  }

  function pushEvent(type, pc, extra) {
    if (left) return;
    var e = { ts: now(), type: type };
    if (pc) e.pc = pc;
    if (extra) for (var k in extra) e[k] = extra[k];
    events.push(e);
  }

  // Every peer connection the page makes is observed: wrap the constructor before the app uses it.
  function wrap() {
    if (!NativePC || global.RTCPeerConnection !== NativePC) return;
    function ObservedPC(cfg, constraints) {
      var pc = new NativePC(cfg, constraints);
      observe(pc);
      return pc;
    }
    ObservedPC.prototype = NativePC.prototype;
    for (var k in NativePC) { try { ObservedPC[k] = NativePC[k]; } catch (e) { /* read-only static */ } }
    if (NativePC.generateCertificate) ObservedPC.generateCertificate = NativePC.generateCertificate.bind(NativePC);
    global.RTCPeerConnection = ObservedPC;
    if (global.webkitRTCPeerConnection) global.webkitRTCPeerConnection = ObservedPC;
  }

  function observe(pc) {
    var entry = { id: "pc" + (++pcCount), pc: pc, closed: false };
    pcs.push(entry);
    pushEvent("pc_created", entry.id);
    pc.addEventListener("connectionstatechange", function () {
      pushEvent("connection_state", entry.id, { state: pc.connectionState });
      if (pc.connectionState === "connected") collect();
    });
    pc.addEventListener("iceconnectionstatechange", function () {
      pushEvent("ice_connection_state", entry.id, { state: pc.iceConnectionState });
    });
    var close = pc.close;
    pc.close = function () {
      // The last figures of this connection (getStats() starts before the close), unless the
      // peer has left: nothing is sent after the leave, or it would open a new room.
      if (!entry.closed && !left && config) {
        entry.closed = true;
        pushEvent("connection_state", entry.id, { state: "closed" });
        sample(entry).then(function (last) { if (!left) { enqueue(batch(last ? [last] : [])); send(); } });
      }
      entry.closed = true;
      return close.apply(pc, arguments);
    };
  }

  function sample(entry) {
    return entry.pc.getStats().then(function (report) {
      var stats = [];
      report.forEach(function (s) { stats.push(s); });
      entry.pc.getSenders().forEach(function (sender) {
        var t = sender.track;
        if (t && t.label) devices[t.kind] = t.label;
      });
      return { seq: ++seq, ts: now(), pc: entry.id, stats: stats };
    }).catch(function () { return null; });
  }

  // One batch per interval: the events so far and a sample of every open peer connection.
  function collect() {
    if (!config || left) return Promise.resolve();
    var open = pcs.filter(function (p) { return !p.closed && p.pc.signalingState !== "closed"; });
    return Promise.all(open.map(sample)).then(function (samples) {
      enqueue(batch(samples.filter(Boolean)));
      return send();
    });
  }

  function batch(samples) {
    var b = { sdk_version: VERSION, events: events, samples: samples };
    events = [];
    for (var k in pendingKeys) { b.keys = pendingKeys; pendingKeys = {}; break; }
    if (rating !== null) { b.user_rating = rating; rating = null; }
    if (userAgent) { b.user_agent = userAgent; userAgent = null; }
    if (devices.audio) b.audio_device = devices.audio;
    if (devices.video) b.video_device = devices.video;
    return b;
  }

  function enqueue(b) {
    if (!b.events.length && !b.samples.length && !b.keys && b.user_rating === undefined) return;
    var size = JSON.stringify(b).length;
    queue.push({ body: b, size: size });
    queuedBytes += size;
    // Bounded while offline: the oldest go first, counted.
    while (queue.length > 1 && (queue.length > config.maxQueuedBatches || queuedBytes > config.maxQueuedBytes)) {
      queuedBytes -= queue.shift().size;
      dropped++;
    }
  }

  function gzip(text) {
    if (typeof CompressionStream === "undefined" || typeof Response === "undefined") return Promise.resolve(null);
    var stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Response(stream).arrayBuffer().catch(function () { return null; });
  }

  function schedule(ms) {
    retryAt = now() + ms;
    setTimeout(send, ms);
  }

  function send() {
    if (sending || !queue.length || now() < retryAt) return Promise.resolve();
    sending = true;
    var item = queue[0];
    var text = JSON.stringify(item.body);
    return gzip(text).then(function (zipped) {
      var headers = { "Authorization": "Bearer " + config.key, "Content-Type": "application/json" };
      if (zipped) headers["Content-Encoding"] = "gzip";
      return fetch(url("/samples"), { method: "POST", headers: headers, body: zipped || text, mode: "cors", credentials: "omit" });
    }).then(function (response) {
      sending = false;
      if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 429)) {
        // Accepted, or refused for good (the body names why): either way it leaves the queue.
        if (!response.ok && global.console) console.warn("roomstream: batch refused", response.status);
        if (queue[0] === item) { queue.shift(); queuedBytes -= item.size; }
        backoffMs = 0;
        return send();
      }
      retry(response.headers.get("Retry-After"));
    }, function () {
      sending = false;
      retry(null);
    });
  }

  // Network errors, 429 and 5xx: Retry-After when given, else exponential backoff with jitter.
  function retry(after) {
    var seconds = parseInt(after, 10);
    backoffMs = Math.min(60000, backoffMs ? backoffMs * 2 : 1000);
    schedule(seconds > 0 ? seconds * 1000 : backoffMs / 2 + Math.random() * backoffMs / 2);
  }

  // The page is going away: what is queued, with the leave (or a final sample), by beacon.
  function flushOnExit(withLeave) {
    if (!config || !navigator.sendBeacon) return;
    if (withLeave) pushEvent("leave");
    left = true;
    enqueue(batch([]));
    var limit = 60000;  // beacons are capped at 64 KiB in flight
    var parts = queue.map(function (q) { return q.body; });
    queue = []; queuedBytes = 0;
    var merged = { sdk_version: VERSION, events: [], samples: [] };
    parts.forEach(function (p) {
      merged.events = merged.events.concat(p.events);
      merged.samples = merged.samples.concat(p.samples);
      if (p.keys) merged.keys = p.keys;
      if (p.user_rating !== undefined) merged.user_rating = p.user_rating;
      if (p.audio_device) merged.audio_device = p.audio_device;
      if (p.video_device) merged.video_device = p.video_device;
    });
    // Newest samples first to keep; events always.
    while (merged.samples.length && JSON.stringify(merged).length > limit) merged.samples.shift();
    navigator.sendBeacon(url("/samples", true), new Blob([JSON.stringify(merged)], { type: "text/plain" }));
  }

  var api = {
    version: VERSION,
    init: function (options) {
      if (!options || !options.url || !options.key || !options.roomId || !options.peerId) throw new Error("roomstream.init: url, key, roomId and peerId are required");
      config = {
        url: options.url, key: options.key, roomId: String(options.roomId), peerId: String(options.peerId),
        collectionIntervalSeconds: options.collectionIntervalSeconds || 8,
        maxQueuedBatches: options.maxQueuedBatches || 100, maxQueuedBytes: options.maxQueuedBytes || 4 * 1024 * 1024
      };
      if (options.keys) api.addKeys(options.keys);
      // Chromium's User-Agent carries only the major version (UA reduction); the full one is
      // in the client hints, asked for once.
      var hints = navigator.userAgentData;
      if (hints && hints.getHighEntropyValues) {
        hints.getHighEntropyValues(["fullVersionList"]).then(function (v) {
          (v.fullVersionList || []).forEach(function (b) {
            if (/^(Chromium|Google Chrome|Microsoft Edge)$/.test(b.brand)) userAgent = navigator.userAgent.replace(/Chrome\/[\d.]+/, "Chrome/" + b.version);
          });
        }).catch(function () {});
      }
      wrap();
      if (timer) clearInterval(timer);
      timer = setInterval(collect, config.collectionIntervalSeconds * 1000);
      global.addEventListener("pagehide", function () { flushOnExit(!left); });
      return api;
    },
    addKeys: function (keys) { for (var k in keys) pendingKeys[k] = keys[k]; },
    setUserRating: function (n) {
      if (!(n >= 1 && n <= 5)) throw new Error("roomstream.setUserRating: 1 to 5");
      rating = Math.round(n);
    },
    setConfig: function (options) {
      for (var k in options) if (k in config) config[k] = options[k];
      if (options.collectionIntervalSeconds && timer) { clearInterval(timer); timer = setInterval(collect, config.collectionIntervalSeconds * 1000); }
    },
    // The peer leaves: a final sample of each connection, the leave, then collection stops.
    leave: function () {
      if (!config || left) return Promise.resolve();
      return collect().then(function () {
        clearInterval(timer);
        pushEvent("leave");
        left = true;
        enqueue(batch([]));
        return send();
      });
    },
    flush: function () { return collect(); },
    stats: function () { return { queued: queue.length, queuedBytes: queuedBytes, dropped: dropped, seq: seq, peerConnections: pcs.length }; }
  };
  global.roomstream = api;
})(typeof globalThis !== "undefined" ? globalThis : window);
