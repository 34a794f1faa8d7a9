// The staff virtual queue, live: /ws/staff/telehealth/queue/ says something changed (ids and
// statuses only); the page refetches its rows (an audited read) and redraws them. The rows are
// refreshed every 30 s too, so waiting times and alerts stay current.
(function () {
  "use strict";
  var box = document.querySelector("[data-queue]");
  var live = document.querySelector("[data-live]");
  if (!box || !window.WebSocket) return;
  var url = box.getAttribute("data-rows-url");
  var pending = null;

  function socketUrl(path) {
    var body = document.body, configured = body.getAttribute("data-ws-url");
    if (configured) return configured.replace(/\/$/, "") + path;
    var port = body.getAttribute("data-ws-port");
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.hostname + (port ? ":" + port : "") + path;
  }

  function refresh() {
    clearTimeout(pending);
    pending = setTimeout(function () {
      fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { box.innerHTML = html; box.setAttribute("data-refreshed", String(Date.now())); } });
    }, 100);
  }

  var delay = 1000;
  function connect() {
    var ws = new WebSocket(socketUrl("/ws/staff/telehealth/queue/"));
    ws.onopen = function () { delay = 1000; live.textContent = "live"; refresh(); };
    ws.onmessage = function (event) {
      var msg; try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.type === "queue") refresh();
    };
    ws.onclose = function (event) {
      live.textContent = "reconnecting…";
      if (event.code === 4401 || event.code === 4403) { live.textContent = "sign in again"; return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  connect();
  setInterval(refresh, 30000);
})();
