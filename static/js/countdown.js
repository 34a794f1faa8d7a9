// Keeps <time data-countdown datetime="..."> texts ("2 h 5 min left") current. The server
// renders the same text, so the page reads right without JavaScript.
(function () {
  "use strict";
  function text(ms) {
    if (ms <= 0) return "expired";
    var minutes = Math.floor(ms / 60000);
    if (minutes < 1) return "less than a minute left";
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    if (days) return days + " day" + (days === 1 ? "" : "s") + " " + hours + " h left";
    if (hours) return hours + " h " + mins + " min left";
    return mins + " min left";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("datetime")) - now;
      var value = text(left);
      if (el.textContent !== value) el.textContent = value;
      el.classList.toggle("countdown-expired", left <= 0);
      el.classList.toggle("countdown-soon", left > 0 && left < 5 * 60000);
    });
  }
  tick();
  setInterval(tick, 15000);
  // A confirm button submits once; the idempotency key covers any second submit anyway.
  document.querySelectorAll("button[data-once]").forEach(function (button) {
    button.form.addEventListener("submit", function () {
      setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
