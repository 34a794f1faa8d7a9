// The provider's call page: starts the session (licensure gate: a 409 says why), joins the
// call as host (call.js), and can end it as technical issues.
(function () {
  "use strict";
  var root = document.querySelector("[data-provider-call]");
  var configEl = document.getElementById("telehealth-config");
  if (!root || !configEl || !window.TelehealthCall) return;
  var config = JSON.parse(configEl.textContent);
  var T = window.TelehealthCall;
  var errorEl = root.querySelector("[data-call-error]");
  var call = new T.Call(config, root, {});
  window.telehealthCall = call;

  function fail(err) { errorEl.textContent = err.message + (err.code ? " (" + err.code + ")" : ""); errorEl.hidden = false; }

  T.api(config.api + "start/", {}).then(function () { return call.start(); }).catch(fail);

  root.querySelector("[data-technical]").addEventListener("click", function () {
    call.ended = true;
    call.send("hangup", {});
    T.api(config.api + "end/", { technical_issues: true, reason: "Technical issues" })
      .then(function () { location.href = config.queue_url; }).catch(fail);
  });
})();
