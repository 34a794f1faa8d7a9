// Live staff scheduling pages over /ws/staff/board/. Events carry ids and statuses only; on
// one that concerns a list on this page ([data-live-list data-live-kinds="request|visit"]),
// the list is fetched again from its data-live-src (the server renders it, and records the
// read in the audit log) and the affected row is highlighted. A RED request raises a banner
// ([data-live-alert]). Patients' presence ([data-presence-kind][data-presence-id] pills): the
// socket is asked for it ({"action": "presence"}: a snapshot, then changes; ids only,
// apps/messaging/presence.py) and a row whose patient is online now says so.
// Reconnects with backoff; stops on 4401/4403 (signed out, no access).
(function () {
  "use strict";
  var body = document.body;
  var lists = Array.prototype.slice.call(document.querySelectorAll("[data-live-list]"));
  if (!lists.length) return;
  var statusBox = document.querySelector("[data-live-status]");
  var statusLabel = document.querySelector("[data-live-label]");
  var alertBox = document.querySelector("[data-live-alert]");

  function socketUrl() {
    var configured = body.getAttribute("data-ws-url");
    if (configured) return configured.replace(/\/$/, "") + "/ws/staff/board/";
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var port = body.getAttribute("data-ws-port");
    return scheme + location.hostname + (port ? ":" + port : "") + "/ws/staff/board/";
  }

  function setStatus(state, text) {
    if (!statusBox) return;
    statusBox.setAttribute("data-state", state);
    if (statusLabel) statusLabel.textContent = text;
  }

  function kindsOf(list) {
    return (list.getAttribute("data-live-kinds") || "").split(/[ ,]+/);
  }

  var pending = new Map(); // list -> {timer, ids}
  var online = null; // "patient:<id>" -> true, once the socket has answered

  function showPresence() {
    document.querySelectorAll("[data-presence-kind][data-presence-id]").forEach(function (p) {
      if (online === null) { p.hidden = true; return; }
      var on = !!online[p.getAttribute("data-presence-kind") + ":" + p.getAttribute("data-presence-id")];
      // A busy list stays calm: only who is online now is marked.
      p.textContent = "Online";
      p.title = (p.getAttribute("data-presence-label") || "") + " is online now";
      p.classList.add("pill-ok");
      p.setAttribute("data-online", on ? "true" : "false");
      p.hidden = !on;
    });
  }

  function refresh(list, id) {
    var entry = pending.get(list) || { timer: null, ids: [] };
    if (id) entry.ids.push(id);
    if (entry.timer) clearTimeout(entry.timer);
    // Debounced: one offer moves five slots and a request; fetch once.
    entry.timer = setTimeout(function () {
      pending.delete(list);
      fetch(list.getAttribute("data-live-src"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) {
          if (r.redirected || !r.ok) throw new Error("HTTP " + r.status);
          return r.text();
        })
        .then(function (html) {
          list.innerHTML = html;
          showPresence();
          entry.ids.forEach(function (rowId) {
            var row = list.querySelector('[data-row-id="' + rowId + '"]');
            if (!row) return;
            row.classList.remove("row-flash");
            void row.offsetWidth; // restart the animation
            row.classList.add("row-flash");
          });
        })
        .catch(function () { setStatus("stale", "Could not refresh: reload the page"); });
    }, 250);
    pending.set(list, entry);
  }

  function raiseRedAlert(request) {
    if (!alertBox) return;
    alertBox.textContent = "";
    var strong = document.createElement("strong");
    strong.textContent = "RED request: ";
    alertBox.appendChild(strong);
    alertBox.appendChild(document.createTextNode("a patient was told to seek emergency care. Contact them now. "));
    var link = document.createElement("a");
    link.href = "/staff/scheduling/requests/" + encodeURIComponent(request.id) + "/";
    link.textContent = "Open the request";
    alertBox.appendChild(link);
    alertBox.hidden = false;
  }

  function handle(msg) {
    var kind = msg.type.split(".")[0];
    var obj = msg[kind];
    if (!obj) return;
    if (kind === "request" && obj.severity === "RED" && (msg.type === "request.emergency" || msg.type === "request.created")) {
      raiseRedAlert(obj);
    }
    lists.forEach(function (list) {
      if (kindsOf(list).indexOf(kind) !== -1) refresh(list, obj.id);
    });
  }

  var delay = 1000;
  function connect() {
    var ws;
    try { ws = new WebSocket(socketUrl()); } catch (e) { setStatus("off", "Live updates unavailable"); return; }
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.type === "hello") {
        setStatus("live", "Live");
        ws.send(JSON.stringify({ action: "presence" }));
        return;
      }
      if (msg.type === "presence.snapshot") {
        online = {};
        (msg.patients || []).forEach(function (id) { online["patient:" + id] = true; });
        (msg.staff || []).forEach(function (id) { online["staff:" + id] = true; });
        showPresence();
        return;
      }
      if (msg.type === "presence") {
        if (online === null) online = {};
        online[msg.kind + ":" + msg.id] = !!msg.online;
        showPresence();
        return;
      }
      if (typeof msg.type === "string") handle(msg);
    };
    ws.onclose = function (event) {
      if (event.code === 4401 || event.code === 4403) { setStatus("off", "Live updates off (sign in again)"); return; }
      setStatus("stale", "Reconnecting…");
      online = null; // unknown until the socket is back
      showPresence();
      setTimeout(function () {
        connect();
        // Anything missed while disconnected: fetch every list once.
        lists.forEach(function (list) { refresh(list); });
      }, delay);
      delay = Math.min(delay * 2, 30000);
    };
    window.clinicBoardSocket = ws;
  }
  connect();
})();
