// The two-party call of the built-in provider: peer-to-peer WebRTC, signalling over the app's
// own WebSocket (/ws/telehealth/<session>/signal/?token=...). The provider ("host") makes the
// offer; the patient ("guest") answers. ICE restart after a network blip, mute, camera, hang up,
// a quality indicator from getStats, and the metrics posted to the API at the end.
// options: onRemote(stream) when the other side's media arrives, beforeEnd() (may return a
// Promise) before the call's tracks stop, onEnd() once it has ended.
// window.telehealthStats holds the last sample (the browser test reads it).
(function () {
  "use strict";

  function socketUrl(path) {
    var body = document.body;
    var configured = body.getAttribute("data-ws-url");
    if (configured) return configured.replace(/\/$/, "") + path;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var port = body.getAttribute("data-ws-port");
    return scheme + location.hostname + (port ? ":" + port : "") + path;
  }

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function api(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = {};
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = {}; }
        if (!response.ok) { var err = new Error(data.message || ("HTTP " + response.status)); err.code = data.code; err.status = response.status; throw err; }
        return data;
      });
    });
  }

  function Call(config, root, options) {
    this.config = config;
    this.root = root;
    this.options = options || {};
    this.role = config.role;
    this.pending = [];
    this.sample = null;
    this.reconnects = 0;
    this.ended = false;
  }

  Call.prototype.el = function (name) { return this.root.querySelector("[data-" + name + "]"); };

  Call.prototype.status = function (text) { var s = this.el("call-status"); if (s) s.textContent = text; };

  Call.prototype.start = function (stream) {
    var self = this;
    this.root.querySelector("[data-call]").hidden = false;
    this.bindControls();
    return api(this.config.api + "join-token/").then(function (token) {
      self.token = token;
      // A vendor's room (Twilio, Zoom): its SDK runs the call (vendor_call.js), loaded now.
      if (token.provider && token.provider !== "BUILTIN") return self.startVendor(token, stream);
      return (stream ? Promise.resolve(stream) : navigator.mediaDevices.getUserMedia({ audio: true, video: true }))
        .then(function (media) {
          self.stream = media;
          self.el("local-video").srcObject = media;
          self.makePeer();
          self.openSignal();
          self.statsTimer = setInterval(function () { self.collect(); }, 2000);
        });
    });
  };

  // The vendor's browser SDK, only for the provider that serves this session, pinned by its
  // Subresource Integrity hash (config.vendor_scripts, from the provider interface).
  var loaded = {};
  function loadScript(script) {
    if (!loaded[script.src]) {
      loaded[script.src] = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = script.src;
        tag.integrity = script.integrity;
        tag.crossOrigin = "anonymous";
        tag.onload = resolve;
        tag.onerror = function () { delete loaded[script.src]; reject(new Error("The video service could not be loaded. Check your connection and try again.")); };
        document.head.appendChild(tag);
      });
    }
    return loaded[script.src];
  }

  Call.prototype.startVendor = function (token, stream) {
    var self = this;
    var vendors = window.TelehealthVendors || {};
    var script = (this.config.vendor_scripts || {})[token.provider];
    if (!vendors[token.provider]) return Promise.reject(new Error("This page cannot join a " + token.provider + " call."));
    if (!script || !script.src || !script.integrity) {
      return Promise.reject(new Error((script && script.error) || "The video service is not configured for browsers."));
    }
    // The vendor opens the camera and microphone itself: release the device check's stream.
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    return loadScript(script).then(function () { return vendors[token.provider](self, token); }).then(function (adapter) {
      self.adapter = adapter;
      self.statsTimer = setInterval(function () { self.collect(); }, 2000);
    });
  };

  Call.prototype.makePeer = function () {
    var self = this;
    var ice = (this.token.extra && this.token.extra.ice_servers) || [];
    var pc = this.pc = new RTCPeerConnection({ iceServers: ice });
    this.stream.getTracks().forEach(function (track) { pc.addTrack(track, self.stream); });
    pc.ontrack = function (event) {
      var video = self.el("remote-video");
      if (video.srcObject !== event.streams[0]) video.srcObject = event.streams[0];
      if (self.options.onRemote) self.options.onRemote(event.streams[0]);
      if (!self.startedAt) self.startedAt = Date.now();
      self.status("Connected.");
    };
    pc.onicecandidate = function (event) { if (event.candidate) self.send("ice", event.candidate.toJSON()); };
    pc.oniceconnectionstatechange = function () {
      var state = pc.iceConnectionState;
      if (state === "failed" || state === "disconnected") {
        self.status("Reconnecting…");
        clearTimeout(self.restartTimer);
        self.restartTimer = setTimeout(function () { self.restart(); }, state === "failed" ? 0 : 2500);
      } else if (state === "connected" || state === "completed") {
        clearTimeout(self.restartTimer);
        self.status("Connected.");
      }
    };
  };

  Call.prototype.restart = function () {
    if (this.ended || !this.pc) return;
    var state = this.pc.iceConnectionState;
    if (state !== "failed" && state !== "disconnected") return;
    this.reconnects += 1;
    if (this.role === "host") this.offer(true); else this.send("restart", {});
  };

  Call.prototype.openSignal = function () {
    var self = this;
    var ws = this.ws = new WebSocket(socketUrl(this.config.signal_socket + "?token=" + encodeURIComponent(this.token.token)));
    ws.onopen = function () { self.send("ready", {}); };
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      self.onSignal(msg);
    };
    ws.onclose = function (event) {
      if (self.ended || event.code === 4401 || event.code === 4403) {
        if (!self.ended && event.code === 4403) self.status("This call is closed to you.");
        return;
      }
      setTimeout(function () { self.openSignal(); }, 1000);
    };
  };

  Call.prototype.send = function (type, data) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: type, data: data }));
  };

  Call.prototype.offer = function (iceRestart) {
    var self = this;
    return this.pc.createOffer(iceRestart ? { iceRestart: true } : {}).then(function (offer) {
      return self.pc.setLocalDescription(offer);
    }).then(function () { self.send("offer", self.pc.localDescription.toJSON()); });
  };

  Call.prototype.flush = function () {
    var self = this;
    var queued = this.pending; this.pending = [];
    queued.forEach(function (c) { self.pc.addIceCandidate(c).catch(function () {}); });
  };

  Call.prototype.onSignal = function (msg) {
    var self = this, pc = this.pc;
    if (msg.type === "ready") {
      if (this.role === "host") this.offer(pc.remoteDescription !== null);
      else if (msg.from === "host") this.send("ready", {});
    } else if (msg.type === "offer" && this.role === "guest") {
      pc.setRemoteDescription(msg.data).then(function () { self.flush(); return pc.createAnswer(); })
        .then(function (answer) { return pc.setLocalDescription(answer); })
        .then(function () { self.send("answer", pc.localDescription.toJSON()); });
    } else if (msg.type === "answer" && this.role === "host") {
      pc.setRemoteDescription(msg.data).then(function () { self.flush(); });
    } else if (msg.type === "ice" && msg.data) {
      if (pc.remoteDescription) pc.addIceCandidate(msg.data).catch(function () {});
      else this.pending.push(msg.data);
    } else if (msg.type === "restart" && this.role === "host") {
      this.offer(true);
    } else if (msg.type === "hangup") {
      this.finish("The other side hung up.");
    }
  };

  Call.prototype.rawStats = function () {
    if (this.adapter) return this.adapter.stats();
    if (!this.pc) return Promise.resolve(null);
    return this.pc.getStats().then(function (report) {
      var now = { bytesReceived: 0, bytesSent: 0, packetsLost: 0, packetsReceived: 0, framesDecoded: 0, rtt: null, jitter: null };
      report.forEach(function (s) {
        if (s.type === "inbound-rtp") {
          now.bytesReceived += s.bytesReceived || 0; now.packetsLost += s.packetsLost || 0;
          now.packetsReceived += s.packetsReceived || 0; now.framesDecoded += s.framesDecoded || 0;
          if (s.jitter != null) now.jitter = s.jitter * 1000;
        } else if (s.type === "outbound-rtp") {
          now.bytesSent += s.bytesSent || 0;
        } else if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime != null) {
          now.rtt = s.currentRoundTripTime * 1000;
        }
      });
      return now;
    });
  };

  Call.prototype.collect = function () {
    var self = this;
    return this.rawStats().then(function (now) {
      if (!now) return null;
      now.at = Date.now();
      var prev = self.sample;
      now.kbps = prev ? Math.max(0, (now.bytesReceived - prev.bytesReceived) * 8 / Math.max(1, now.at - prev.at)) : 0;
      var total = now.packetsLost + now.packetsReceived;
      now.lossPct = total ? 100 * now.packetsLost / total : 0;
      self.sample = now;
      window.telehealthStats = now;
      self.indicate(now);
      return now;
    });
  };

  Call.prototype.indicate = function (s) {
    var pill = this.el("quality");
    if (!pill) return;
    var label = "Good", cls = "pill pill-ok";
    if (s.label) { label = s.label; cls = s.labelClass || cls; }
    else if (!s.bytesReceived) { label = "Connecting…"; cls = "pill"; }
    else if (s.lossPct > 5 || (s.rtt && s.rtt > 400)) { label = "Poor connection"; cls = "pill pill-warn"; }
    else if (s.lossPct > 1 || (s.rtt && s.rtt > 200)) { label = "Fair connection"; cls = "pill pill-wait"; }
    pill.textContent = label; pill.className = cls;
  };

  Call.prototype.bindControls = function () {
    var self = this;
    if (this.bound) return; this.bound = true;
    var mute = this.el("mute"), camera = this.el("camera"), hangup = this.el("hangup");
    mute.addEventListener("click", function () {
      var on = mute.getAttribute("aria-pressed") !== "true";
      if (self.adapter) self.adapter.mute(on);
      else self.stream.getAudioTracks().forEach(function (t) { t.enabled = !on; });
      mute.setAttribute("aria-pressed", String(on)); mute.textContent = on ? "Unmute" : "Mute";
    });
    camera.addEventListener("click", function () {
      var off = camera.getAttribute("aria-pressed") !== "true";
      if (self.adapter) self.adapter.camera(off);
      else self.stream.getVideoTracks().forEach(function (t) { t.enabled = !off; });
      camera.setAttribute("aria-pressed", String(off)); camera.textContent = off ? "Camera on" : "Camera off";
    });
    hangup.addEventListener("click", function () { self.hangup(); });
  };

  Call.prototype.metrics = function () {
    var s = this.sample || {};
    var m = { bytes_received: s.bytesReceived || 0, bytes_sent: s.bytesSent || 0, frames_decoded: s.framesDecoded || 0,
              packet_loss_pct: s.lossPct || 0, bitrate_kbps: s.kbps || 0, reconnects: this.reconnects };
    if (s.rtt != null) m.rtt_ms = s.rtt;
    if (s.jitter != null) m.jitter_ms = s.jitter;
    if (this.startedAt) m.duration_s = (Date.now() - this.startedAt) / 1000;
    return m;
  };

  Call.prototype.hangup = function () {
    this.send("hangup", {});
    return this.finish("You hung up.");
  };

  Call.prototype.finish = function (text) {
    var self = this;
    if (this.ended) return Promise.resolve();
    this.ended = true;
    clearInterval(this.statsTimer);
    // options.beforeEnd (the provider's recording): runs while the tracks are still live.
    var before = this.options.beforeEnd ? Promise.resolve().then(this.options.beforeEnd).catch(function () {}) : Promise.resolve();
    return before.then(function () { return self.collect(); }).catch(function () {}).then(function () {
      return api(self.config.api + "quality/", self.metrics()).catch(function () {});
    }).then(function () {
      // The provider's side ends the session (and the visit), whoever hung up.
      if (self.role === "host") return api(self.config.api + "end/", {}).catch(function () {});
    }).then(function () {
      if (self.adapter) self.adapter.leave();
      if (self.pc) self.pc.close();
      if (self.stream) self.stream.getTracks().forEach(function (t) { t.stop(); });
      if (self.ws) self.ws.close();
      self.status(text + " The visit has ended.");
      if (self.options.onEnd) self.options.onEnd();
    });
  };

  window.TelehealthCall = { Call: Call, api: api, socketUrl: socketUrl };
})();
