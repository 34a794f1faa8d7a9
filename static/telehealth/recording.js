// The provider's recording of a built-in (WebRTC) call. The page has the Record button only when
// the server says the call may be recorded (the patient's valid RECORDING consent, the built-in
// provider: views._may_record); pressing it asks the server to start a recording
// (POST .../sessions/<id>/recordings/, which verifies the consent again and answers 409 when
// it cannot be relied on), then MediaRecorder records both sides: the two videos drawn on one
// canvas (the patient full size, the provider in a corner) and both voices mixed by Web Audio.
// When the provider stops, or the call ends, the file is uploaded (multipart, CSRF token) to
// .../recordings/<id>/upload/ with its progress; a refusal is shown, and a failed transfer can
// be tried again while the page is open.
// window.TelehealthRecording(call, config, root) -> controller (provider_call.js wires it).
(function () {
  "use strict";

  var TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm", "video/mp4"];
  var FPS = 15;

  function pickType() {
    if (!window.MediaRecorder || !MediaRecorder.isTypeSupported) return "";
    for (var i = 0; i < TYPES.length; i++) if (MediaRecorder.isTypeSupported(TYPES[i])) return TYPES[i];
    return "";
  }

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function megabytes(bytes) { return (bytes / (1024 * 1024)).toFixed(1) + " MB"; }

  // Both sides into one stream: a canvas for the pictures, a Web Audio destination for the voices.
  function Mixer(remoteVideo, localVideo) {
    this.remoteVideo = remoteVideo;
    this.localVideo = localVideo;
    this.canvas = document.createElement("canvas");
    this.canvas.width = 640; this.canvas.height = 480;
    this.g = this.canvas.getContext("2d");
    var AudioCtx = window.AudioContext || window.webkitAudioContext;
    this.audio = new AudioCtx();
    this.destination = this.audio.createMediaStreamDestination();
    this.sources = {};
    var self = this;
    this.draw();
    this.timer = setInterval(function () { self.draw(); }, Math.round(1000 / FPS));
  }

  Mixer.supported = function () {
    return !!((window.AudioContext || window.webkitAudioContext) && HTMLCanvasElement.prototype.captureStream);
  };

  Mixer.prototype.addAudio = function (stream) {
    if (!stream || this.sources[stream.id] || !stream.getAudioTracks().length) return;
    var source = this.audio.createMediaStreamSource(stream);
    source.connect(this.destination);
    this.sources[stream.id] = source;
  };

  function playing(video) { return video && video.readyState >= 2 && video.videoWidth > 0; }

  Mixer.prototype.draw = function () {
    var g = this.g, w = this.canvas.width, h = this.canvas.height;
    g.fillStyle = "#111"; g.fillRect(0, 0, w, h);
    if (playing(this.remoteVideo)) g.drawImage(this.remoteVideo, 0, 0, w, h);
    if (playing(this.localVideo)) {
      var iw = Math.round(w / 4), ih = Math.round(h / 4);
      g.drawImage(this.localVideo, w - iw - 8, h - ih - 8, iw, ih);
    }
  };

  Mixer.prototype.stream = function () {
    this.video = this.canvas.captureStream(FPS).getVideoTracks();
    return new MediaStream(this.video.concat(this.destination.stream.getAudioTracks()));
  };

  Mixer.prototype.stop = function () {
    clearInterval(this.timer);
    (this.video || []).forEach(function (t) { t.stop(); });
    Object.keys(this.sources).forEach(function (k) { try { this.sources[k].disconnect(); } catch (e) { /* gone */ } }, this);
    if (this.audio.close) this.audio.close().catch(function () {});
  };

  function Recording(call, config, root) {
    this.call = call;
    this.config = config.recording;
    this.root = root;
    this.button = root.querySelector("[data-record]");
    this.retry = root.querySelector("[data-recording-retry]");
    this.progress = root.querySelector("[data-recording-progress]");
    this.statusEl = root.querySelector("[data-recording-status]");
    this.errorEl = root.querySelector("[data-recording-error]");
    this.live = root.querySelector("[data-recording-live]");
    this.state = "idle";
    this.pending = null;   // {id, blob} of a recording not stored yet
    this.uploading = null; // the Promise of the upload in flight
    var self = this;
    this.button.addEventListener("click", function () { if (self.state === "recording") self.stop(); else self.start(); });
    this.retry.addEventListener("click", function () { self.upload(); });
    window.addEventListener("beforeunload", function (event) {
      if (self.state === "recording" || self.state === "uploading" || self.pending) { event.preventDefault(); event.returnValue = ""; }
    });
  }

  Recording.prototype.set = function (state, text) {
    this.state = state;
    this.root.setAttribute("data-state", state);
    if (text != null) this.statusEl.textContent = text;
    var recording = state === "recording";
    this.live.hidden = !recording;
    this.button.setAttribute("aria-pressed", String(recording));
    this.button.textContent = recording ? "Stop recording" : "Record";
    // While starting, stopping or uploading the button keeps its focus (aria-disabled; a press
    // is ignored); before the call and after it, it is disabled.
    var usable = state === "recording" || (!this.call.ended && (state === "ready" || state === "stored"));
    var busy = state === "starting" || state === "stopping" || state === "uploading";
    this.button.disabled = !usable && !busy;
    if (busy) this.button.setAttribute("aria-disabled", "true"); else this.button.removeAttribute("aria-disabled");
  };

  Recording.prototype.fail = function (text) {
    this.errorEl.textContent = text;
    this.errorEl.hidden = false;
  };

  Recording.prototype.clearError = function () { this.errorEl.hidden = true; this.errorEl.textContent = ""; };

  // The call has its camera and microphone: recording may start (the built-in provider only).
  Recording.prototype.ready = function () {
    if (this.call.adapter || !this.call.stream) return;
    if (!pickType()) { this.fail("This browser cannot record the call (no MediaRecorder)."); return; }
    if (this.state === "idle") this.set("ready", "Press Record to start recording the call.");
  };

  Recording.prototype.onRemote = function (stream) {
    if (this.mixer) this.mixer.addAudio(stream);
  };

  Recording.prototype.start = function () {
    var self = this;
    if (this.call.ended || !(this.state === "ready" || this.state === "stored")) return Promise.resolve();
    this.clearError();
    this.set("starting", "Starting the recording…");
    return window.TelehealthCall.api(this.config.start, {}).then(function (recording) {
      if (self.call.ended) throw new Error("The call ended before the recording started.");
      self.begin(recording.id);
    }).catch(function (err) {
      self.set(self.call.ended ? "ended" : "ready", self.call.ended ? "The call has ended." : "Not recording.");
      self.fail("The recording could not start: " + err.message + (err.code ? " (" + err.code + ")" : ""));
    });
  };

  Recording.prototype.begin = function (id) {
    var self = this, type = pickType(), stream;
    if (Mixer.supported()) {
      this.mixer = new Mixer(this.call.el("remote-video"), this.call.el("local-video"));
      this.mixer.addAudio(this.call.stream);
      this.mixer.addAudio(this.call.el("remote-video").srcObject);
      if (this.mixer.audio.state === "suspended") this.mixer.audio.resume();
      stream = this.mixer.stream();
    } else {
      // No canvas capture: the other side's picture and sound with the provider's voice.
      var remote = this.call.el("remote-video").srcObject;
      stream = new MediaStream((remote ? remote.getTracks() : this.call.stream.getVideoTracks()).concat(this.call.stream.getAudioTracks()));
    }
    this.chunks = []; this.bytes = 0; this.id = id;
    var recorder = this.recorder = new MediaRecorder(stream, { mimeType: type });
    recorder.ondataavailable = function (event) {
      if (!event.data || !event.data.size) return;
      self.chunks.push(event.data);
      self.bytes += event.data.size;
      // Stop before the file passes the server's limit (TELEHEALTH_RECORDING_MAX_MB).
      if (self.bytes > self.config.max_bytes * 0.97 && recorder.state === "recording") {
        self.fail("The recording reached the " + megabytes(self.config.max_bytes) + " limit and was stopped.");
        self.stop();
      }
    };
    this.stopped = new Promise(function (resolve) { recorder.onstop = resolve; });
    recorder.onerror = function (event) {
      self.fail("The browser stopped recording: " + ((event.error && event.error.message) || "error") + ".");
      if (recorder.state !== "inactive") recorder.stop();
    };
    recorder.start(1000);
    this.set("recording", "Recording the call.");
  };

  // Stop (the button, or the end of the call: call.js's beforeEnd) and upload. Resolves once the
  // recorder has written its last data; the upload goes on (this.uploading).
  Recording.prototype.stop = function () {
    var self = this;
    if (this.state === "starting") {
      // Still waiting for the server: stop as soon as it answers.
      return new Promise(function (resolve) { setTimeout(resolve, 300); }).then(function () { return self.stop(); });
    }
    if (this.state !== "recording" || !this.recorder) {
      if (this.state === "ready" || this.state === "idle") this.set("ended", this.call.ended ? "The call has ended." : null);
      return Promise.resolve();
    }
    this.set("stopping", "Finishing the recording…");
    if (this.recorder.state !== "inactive") this.recorder.stop();
    return this.stopped.then(function () {
      if (self.mixer) { self.mixer.stop(); self.mixer = null; }
      var blob = new Blob(self.chunks, { type: (self.recorder.mimeType || pickType()).split(";")[0] });
      self.chunks = [];
      self.pending = { id: self.id, blob: blob };
      self.uploading = self.upload();
    });
  };

  Recording.prototype.upload = function () {
    var self = this, item = this.pending;
    if (!item) return Promise.resolve(true);
    this.clearError();
    this.retry.hidden = true;
    if (!item.blob.size) { this.pending = null; this.set(this.after(), "Nothing was recorded."); this.fail("The recording is empty: nothing was stored."); return Promise.resolve(false); }
    if (item.blob.size > this.config.max_bytes) {
      this.pending = null;
      this.set(this.after(), "Not stored.");
      this.fail("The recording is " + megabytes(item.blob.size) + ", over the " + megabytes(this.config.max_bytes) + " limit: it was not stored.");
      return Promise.resolve(false);
    }
    this.set("uploading", "Uploading the recording (" + megabytes(item.blob.size) + ")… 0%");
    this.progress.value = 0; this.progress.hidden = false;
    var form = new FormData();
    form.append("file", item.blob, "recording." + (item.blob.type.indexOf("mp4") >= 0 ? "mp4" : "webm"));
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", self.config.upload + item.id + "/upload/");
      xhr.setRequestHeader("X-CSRFToken", csrf());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.withCredentials = true;
      xhr.upload.onprogress = function (event) {
        if (!event.lengthComputable) return;
        var pct = Math.round(100 * event.loaded / event.total);
        self.progress.value = pct;
        self.statusEl.textContent = "Uploading the recording (" + megabytes(item.blob.size) + ")… " + pct + "%";
      };
      xhr.onload = function () {
        var data = {};
        try { data = JSON.parse(xhr.responseText || "{}"); } catch (e) { data = {}; }
        self.progress.hidden = true;
        if (xhr.status >= 200 && xhr.status < 300) {
          self.pending = null;
          self.set(self.after("stored"), "The recording is stored (" + megabytes(data.size_bytes || item.blob.size) + ").");
          resolve(true);
          return;
        }
        var fields = data.extra && data.extra.fields ? Object.keys(data.extra.fields).map(function (k) { return data.extra.fields[k].join(" "); }).join(" ") : "";
        var text = "The recording was not stored: " + (data.message || ("HTTP " + xhr.status)) + (fields ? " " + fields : "") + (data.code ? " (" + data.code + ")" : "");
        // A refusal of the file itself (400) or of the recording (409) will not change on retry.
        var again = xhr.status === 0 || xhr.status >= 500 || xhr.status === 401 || xhr.status === 403 || xhr.status === 429;
        if (!again) self.pending = null;
        self.set(again ? "failed" : self.after(), "Not stored.");
        self.retry.hidden = !again;
        self.fail(text);
        resolve(false);
      };
      xhr.onerror = function () {
        self.progress.hidden = true;
        self.set("failed", "Not stored.");
        self.retry.hidden = false;
        self.fail("The recording could not be uploaded (network error). Keep this page open and try the upload again.");
        resolve(false);
      };
      xhr.send(form);
    });
  };

  // After a recording: another one may start while the call goes on.
  Recording.prototype.after = function (state) { return state || (this.call.ended ? "ended" : "ready"); };

  // Stop and wait for the upload (the technical-issues button, before leaving the page).
  Recording.prototype.finish = function () {
    var self = this;
    return this.stop().then(function () { return self.uploading || true; });
  };

  window.TelehealthRecording = function (call, config, root) { return new Recording(call, config, root); };
})();
