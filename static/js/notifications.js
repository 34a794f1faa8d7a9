// Live in-app notifications over /ws/notifications/: keeps the bell's unread count current and
// shows new notifications as toasts. Reconnects with backoff. No PHI is put in the URL.
(function () {
  "use strict";
  var body = document.body;
  var badge = document.querySelector("[data-unread-count]");
  var toasts = document.querySelector("[data-toasts]");
  if (!badge) return;

  function socketUrl() {
    var configured = body.getAttribute("data-ws-url");
    if (configured) return configured.replace(/\/$/, "") + "/ws/notifications/";
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var port = body.getAttribute("data-ws-port");
    return scheme + location.hostname + (port ? ":" + port : "") + "/ws/notifications/";
  }

  function setUnread(n) {
    badge.textContent = String(n);
    badge.hidden = !n;
    badge.parentElement.setAttribute("aria-label", n ? "Notifications, " + n + " unread" : "Notifications");
  }

  function toast(n) {
    if (!toasts) return;
    var el = document.createElement("div");
    el.className = "toast" + (n.urgent ? " urgent" : "");
    var title = document.createElement("strong");
    title.textContent = n.title;
    el.appendChild(title);
    if (n.body) { var p = document.createElement("div"); p.textContent = n.body; el.appendChild(p); }
    toasts.appendChild(el);
    setTimeout(function () { el.remove(); }, n.urgent ? 15000 : 6000);
  }

  var delay = 1000;
  function connect() {
    var ws;
    try { ws = new WebSocket(socketUrl()); } catch (e) { return; }
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "hello" || msg.type === "unread") setUnread(msg.unread);
      if (msg.type === "notification") {
        setUnread((parseInt(badge.textContent, 10) || 0) + 1);
        toast(msg.notification);
        document.dispatchEvent(new CustomEvent("clinic:notification", { detail: msg.notification }));
      }
    };
    ws.onclose = function (event) {
      if (event.code === 4401 || event.code === 4403) return; // signed out or not verified
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
    window.clinicNotifications = ws;
  }
  connect();
})();
