// Secure messages, live over /ws/messages/: on a thread page new messages are appended without
// a reload, the page is marked read while it is visible, and "typing" is shown; on an inbox
// page unread badges update (and the header's Messages badge, on both kinds of page) and a banner
// offers to refresh when a thread not on the page moves; on a staff thread page the patient's
// (and the assigned colleague's) presence is shown, live.
(function () {
  "use strict";
  var body = document.body;
  var threadEl = document.querySelector("[data-thread]");
  var listEl = document.querySelector("[data-thread-list]");
  if (!threadEl && !listEl) return;
  var threadId = threadEl ? threadEl.getAttribute("data-thread") : null;
  var side = (threadEl || listEl).getAttribute("data-side");
  var messagesEl = document.querySelector("[data-messages]");
  var typingEl = document.querySelector("[data-typing-indicator]");
  var typingTimer = null;
  var ws = null;

  function socketUrl() {
    var configured = body.getAttribute("data-ws-url");
    if (configured) return configured.replace(/\/$/, "") + "/ws/messages/";
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var port = body.getAttribute("data-ws-port");
    return scheme + location.hostname + (port ? ":" + port : "") + "/ws/messages/";
  }

  function send(obj) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj));
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function sizeText(n) {
    if (n < 1024) return n + " bytes";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  function appendMessage(m) {
    if (!messagesEl || document.getElementById("m-" + m.id)) return;
    var mine = side === "patient" ? m.from_patient_side : !m.from_patient_side;
    var li = el("li", "msg msg-" + m.author_kind + (mine ? " msg-mine" : "") + " msg-new");
    li.id = "m-" + m.id;
    li.setAttribute("data-message-id", m.id);
    var meta = el("div", "msg-meta");
    meta.appendChild(el("strong", null, m.label));
    meta.appendChild(document.createTextNode(" "));
    var time = el("time", null, m.created_display);
    time.setAttribute("datetime", m.created_at);
    meta.appendChild(time);
    li.appendChild(meta);
    if (m.body) {
      // textContent keeps any markup in a message inert; CSS keeps its line breaks.
      li.appendChild(el("div", "msg-body msg-body-live", m.body));
    }
    if (m.attachments && m.attachments.length) {
      var ul = el("ul", "msg-files");
      m.attachments.forEach(function (a) {
        var item = el("li");
        var link = el("a", null, a.name);
        link.href = a.url;
        item.appendChild(link);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(el("span", "muted small", sizeText(a.size)));
        ul.appendChild(item);
      });
      li.appendChild(ul);
    }
    messagesEl.appendChild(li);
    if (typingEl) typingEl.hidden = true;
    li.scrollIntoView({ block: "nearest", behavior: "smooth" });
    if (!mine && document.visibilityState === "visible") send({ action: "read", thread: threadId });
  }

  // The header's Messages badge counts the same threads as the socket's "unread" total
  // (threads.selectors: staff_unread_thread_count / patient_unread_thread_count).
  function setNavUnread(n) {
    document.querySelectorAll("[data-nav-unread]").forEach(function (b) {
      b.textContent = String(n);
      b.hidden = !n;
    });
    document.querySelectorAll("[data-nav-unread-label]").forEach(function (l) {
      var name = l.getAttribute("data-nav-unread-label");
      l.textContent = n ? name + ", " + n + " unread" : name;
    });
  }

  function setInboxUnread(n) {
    setNavUnread(n);
    document.querySelectorAll("[data-inbox-unread]").forEach(function (b) {
      if (side === "patient") {
        b.textContent = n + " unread";
        b.hidden = !n;
      } else {
        b.textContent = String(n);
      }
    });
  }

  function setThreadUnread(id, n) {
    if (!listEl) return false;
    var row = listEl.querySelector('[data-thread-id="' + id + '"]');
    if (!row) return false;
    var badge = row.querySelector("[data-thread-unread]");
    if (badge) { badge.textContent = String(n); badge.hidden = !n; }
    row.classList.toggle("unread", !!n);
    return true;
  }

  function showTyping(text) {
    if (!typingEl) return;
    typingEl.textContent = text;
    typingEl.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingEl.hidden = true; }, 5000);
  }

  // Live presence (staff pages only): the patient's and the assigned colleague's pills say
  // "online" while they have a socket open (apps/messaging/presence.py); ids only travel.
  var presenceEls = side === "staff" ? document.querySelectorAll("[data-presence-kind][data-presence-id]") : [];
  var online = {};
  function showPresence() {
    presenceEls.forEach(function (p) {
      var on = !!online[p.getAttribute("data-presence-kind") + ":" + p.getAttribute("data-presence-id")];
      p.textContent = on ? "Online" : "Offline";
      p.title = (p.getAttribute("data-presence-label") || "") + (on ? " is online now" : " is not online");
      p.classList.toggle("pill-ok", on);
      p.setAttribute("data-online", on ? "true" : "false");
      p.hidden = false;
    });
  }

  var delay = 1000;
  function connect() {
    try { ws = new WebSocket(socketUrl()); } catch (e) { return; }
    ws.onopen = function () {
      delay = 1000;
      if (threadId) send({ action: "watch", thread: threadId });
      if (presenceEls.length) send({ action: "presence" });
    };
    ws.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "hello") setInboxUnread(msg.unread);
      else if (msg.type === "presence.snapshot") {
        online = {};
        (msg.patients || []).forEach(function (id) { online["patient:" + id] = true; });
        (msg.staff || []).forEach(function (id) { online["staff:" + id] = true; });
        showPresence();
      } else if (msg.type === "presence") {
        online[msg.kind + ":" + msg.id] = !!msg.online;
        showPresence();
      }
      else if (msg.type === "message" && msg.thread_id === threadId) appendMessage(msg.message);
      else if (msg.type === "unread") {
        setInboxUnread(msg.unread);
        if (msg.thread_id && listEl && !setThreadUnread(msg.thread_id, msg.thread_unread)) {
          var banner = document.querySelector("[data-live-banner]");
          if (banner) banner.hidden = false;
        }
      } else if (msg.type === "activity" && listEl) {
        var row = listEl.querySelector('[data-thread-id="' + msg.thread_id + '"]');
        if (row && row.parentElement && row.parentElement.firstElementChild !== row) row.parentElement.insertBefore(row, row.parentElement.firstElementChild);
      } else if (msg.type === "typing" && msg.thread_id === threadId) showTyping(msg.text);
      else if (msg.type === "thread" && msg.thread_id === threadId) {
        var status = document.querySelector("[data-thread-status]");
        if (status && msg.status) status.textContent = msg.status === "open" ? "Open" : "Closed";
      }
    };
    ws.onclose = function (event) {
      presenceEls.forEach(function (p) { p.hidden = true; }); // unknown until the socket is back
      if (event.code === 4401 || event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
    window.clinicThreads = ws;
  }

  if (threadId) {
    var box = document.querySelector("textarea[data-typing]");
    var last = 0;
    if (box) box.addEventListener("input", function () {
      var now = Date.now();
      if (now - last > 2500) { last = now; send({ action: "typing", thread: threadId }); }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") send({ action: "read", thread: threadId });
    });
    if (messagesEl && messagesEl.lastElementChild) messagesEl.lastElementChild.scrollIntoView({ block: "nearest" });
  }
  connect();
})();
