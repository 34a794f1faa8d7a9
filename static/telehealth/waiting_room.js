// The patient's waiting room: enters the room (API), runs the device check (camera and
// microphone with a live preview and a level meter, a WebSocket round trip and a small
// download), saves the pre-visit answers, listens on /ws/telehealth/<session>/room/ and, when
// admitted, moves into the call on the same page (call.js).
(function () {
  "use strict";
  var root = document.querySelector("[data-waiting-room]");
  var configEl = document.getElementById("telehealth-config");
  if (!root || !configEl || !window.TelehealthCall) return;
  var config = JSON.parse(configEl.textContent);
  var T = window.TelehealthCall;
  var statusEl = root.querySelector("[data-room-status]");
  var lateEl = root.querySelector("[data-late]");
  var stream = null, ws = null, pings = {}, call = null, inCall = false;

  function say(text, kind) { statusEl.textContent = text; statusEl.className = "alert alert-" + (kind || "info"); }

  function enter() {
    return T.api(config.api + "waiting-room/").then(function (entry) {
      if (entry.status === "ADMITTED") { startCall(); return; }
      say("You are in the waiting room. Your provider will admit you shortly; keep this page open.");
      if (entry.late_message) showLate(entry.late_message);
    }).catch(function (err) { say(err.message, "warning"); });
  }

  function showLate(text) { lateEl.textContent = text; lateEl.hidden = false; }

  // --- the room socket: events, and the round trip of the connection check ---------------------
  var delay = 1000;
  function connect() {
    ws = new WebSocket(T.socketUrl(config.room_socket));
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (event) {
      var msg; try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.type === "pong" && pings[msg.t]) { pings[msg.t](); delete pings[msg.t]; return; }
      if (msg.type !== "room") return;
      if (msg.event === "admitted") startCall();
      else if (msg.event === "running_late") showLate(msg.message);
      else if (msg.event === "ended" && !inCall) say("This visit has ended or was cancelled.", "warning");
    };
    ws.onclose = function (event) {
      if (event.code === 4401 || event.code === 4403) { say("You are signed out. Sign in again to keep your place.", "warning"); return; }
      setTimeout(function () { connect(); enter(); }, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  function roundTrip() {
    return new Promise(function (resolve) {
      if (!ws || ws.readyState !== WebSocket.OPEN) { resolve(null); return; }
      var t = Date.now() + Math.random();
      var started = performance.now();
      var timer = setTimeout(function () { delete pings[t]; resolve(null); }, 5000);
      pings[t] = function () { clearTimeout(timer); resolve(Math.round(performance.now() - started)); };
      ws.send(JSON.stringify({ type: "ping", t: t }));
    });
  }

  function download() {
    var started = performance.now();
    return fetch(config.download_check, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.arrayBuffer(); })
      .then(function (buf) {
        var ms = Math.max(1, performance.now() - started);
        return Math.round(buf.byteLength * 8 / ms); // kbit/s
      }).catch(function () { return null; });
  }

  // --- device check ------------------------------------------------------------------------
  var check = root.querySelector("[data-device-check]");
  var help = check.querySelector("[data-device-help]");
  var HELP = {
    camera: "We cannot see your camera. Allow camera access in your browser (the camera icon in the address bar) and close other apps that use it.",
    microphone: "We cannot hear your microphone. Allow microphone access and check that it is not muted.",
    connection: "Your connection is slow or blocked. Move closer to your Wi-Fi router or switch networks.",
    bandwidth: "Your connection is too slow for video. Close other downloads or videos and try again."
  };

  function mark(name, ok, text) {
    var li = check.querySelector("[data-check=" + name + "] span");
    li.textContent = text || (ok ? "working" : "not working");
    li.className = ok ? "pill pill-ok" : "pill pill-warn";
  }

  function level(media) {
    return new Promise(function (resolve) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx || !media.getAudioTracks().length) { resolve(0); return; }
      var ctx = new Ctx(), analyser = ctx.createAnalyser(), data = new Uint8Array(analyser.fftSize), peak = 0;
      ctx.createMediaStreamSource(media).connect(analyser);
      var bar = check.querySelector("[data-level]"), until = performance.now() + 2000;
      (function tick() {
        analyser.getByteTimeDomainData(data);
        var max = 0;
        for (var i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i] - 128) / 128);
        peak = Math.max(peak, max);
        bar.style.width = Math.round(max * 100) + "%";
        if (performance.now() < until) requestAnimationFrame(tick); else { ctx.close(); resolve(peak); }
      })();
    });
  }

  function runCheck() {
    help.hidden = true;
    var result = { camera: false, microphone: false, mic_level: 0, rtt_ms: null, download_kbps: null };
    var media = stream ? Promise.resolve(stream) : navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    return media.then(function (m) {
      stream = m;
      check.querySelector("[data-preview]").srcObject = m;
      result.camera = m.getVideoTracks().some(function (t) { return t.readyState === "live"; });
      result.microphone = m.getAudioTracks().some(function (t) { return t.readyState === "live"; });
      return level(m);
    }).catch(function () { return 0; }).then(function (peak) {
      result.mic_level = Math.min(1, peak || 0);
      return roundTrip();
    }).then(function (rtt) {
      result.rtt_ms = rtt;
      return download();
    }).then(function (kbps) {
      result.download_kbps = kbps;
      mark("camera", result.camera); mark("microphone", result.microphone);
      mark("connection", result.rtt_ms !== null, result.rtt_ms !== null ? result.rtt_ms + " ms" + (kbps ? ", " + kbps + " kbit/s" : "") : "no answer");
      return T.api(config.api + "waiting-room/device-check/", result);
    }).then(function (entry) {
      var problems = (entry.device_check && entry.device_check.problems) || [];
      if (problems.length) {
        help.textContent = problems.map(function (p) { return HELP[p] || p; }).join(" ") + " Then press the button to try again.";
        help.hidden = false;
        check.querySelector("[data-run-check]").textContent = "Try again";
      } else {
        check.setAttribute("data-passed", "true");
        check.querySelector("[data-run-check]").textContent = "Check again";
      }
    }).catch(function (err) { help.textContent = err.message; help.hidden = false; });
  }
  check.querySelector("[data-run-check]").addEventListener("click", runCheck);

  // --- answers ------------------------------------------------------------------------------
  var form = root.querySelector("[data-answers]");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var home = form.querySelector("input[name=at_home]:checked");
    var out = form.querySelector("[data-answers-status]");
    T.api(config.api + "waiting-room/answers/", { current_state: form.current_state.value, at_home: home ? home.value === "true" : false })
      .then(function () { out.textContent = "Saved."; form.setAttribute("data-saved", "true"); })
      .catch(function (err) { out.textContent = err.message; });
  });

  // --- the call -----------------------------------------------------------------------------
  function startCall() {
    if (inCall) return;
    inCall = true;
    say("The provider has admitted you. Joining the call…", "success");
    call = new T.Call(config, root, { onEnd: function () { say("Your video visit has ended. Thank you.", "info"); } });
    window.telehealthCall = call;
    call.start(stream).catch(function (err) { inCall = false; say(err.message, "warning"); });
  }

  window.addEventListener("pagehide", function () { if (ws) ws.close(); });
  connect();
  enter();
})();
