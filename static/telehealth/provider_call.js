// The provider's call page: starts the session (licensure gate: a 409 says why), joins the
// call as host (call.js), and can end it as technical issues. When the page offers recording
// (config.recording: the server's verdict), recording.js records and uploads the call.
(function () {
  "use strict";
  var root = document.querySelector("[data-provider-call]");
  var configEl = document.getElementById("telehealth-config");
  if (!root || !configEl || !window.TelehealthCall) return;
  var config = JSON.parse(configEl.textContent);
  var T = window.TelehealthCall;
  var errorEl = root.querySelector("[data-call-error]");
  var recordingEl = root.querySelector("[data-recording]");
  var recording = null;
  var call = new T.Call(config, root, {
    onRemote: function (stream) { if (recording) recording.onRemote(stream); },
    beforeEnd: function () { return recording ? recording.stop() : null; }
  });
  window.telehealthCall = call;
  if (config.recording && recordingEl && window.TelehealthRecording) {
    recording = window.TelehealthRecording(call, config, recordingEl);
    window.telehealthRecording = recording;
  }

  function fail(err) { errorEl.textContent = err.message + (err.code ? " (" + err.code + ")" : ""); errorEl.hidden = false; }

  T.api(config.api + "start/", {}).then(function () { return call.start(); })
    .then(function () { if (recording) recording.ready(); }).catch(fail);

  root.querySelector("[data-technical]").addEventListener("click", function () {
    var stopping = recording ? recording.finish() : Promise.resolve(true);
    call.ended = true;
    call.send("hangup", {});
    T.api(config.api + "end/", { technical_issues: true, reason: "Technical issues" })
      .then(function () { return stopping; })
      .then(function (stored) {
        var next = config.rebook_url || config.queue_url;
        if (stored !== false) { location.href = next; return; }
        // The recording was not stored: stay, with its error (and the retry, when one can help).
        if (call.pc) call.pc.close();
        if (call.stream) call.stream.getTracks().forEach(function (t) { t.stop(); });
        call.status("The visit has ended with technical issues.");
        var link = document.createElement("a");
        link.href = next; link.className = "button"; link.textContent = "Continue to rebooking";
        root.querySelector("[data-technical]").replaceWith(link);
      }).catch(fail);
  });
})();
