// The consent signing page: a signature pad (pointer events: a finger, a pen or a mouse), the
// typed-signature alternative, and saving progress as the patient goes. No library, no CDN.
(function () {
  "use strict";
  var form = document.querySelector("[data-consent-form]");
  if (!form) return;

  // --- the signature pad --------------------------------------------------------------------
  var canvas = form.querySelector("[data-signature-pad]");
  var hidden = form.querySelector("input[name=signature_data]");
  var ctx = canvas.getContext("2d");
  var drawing = false, inked = false, last = null;

  function size() {
    // Device pixels, within what the server accepts (at most 2000 x 1000).
    var ratio = Math.min(window.devicePixelRatio || 1, 3);
    var width = Math.max(200, Math.min(2000, Math.round(canvas.clientWidth * ratio)));
    var height = Math.max(60, Math.min(1000, Math.round(width / 3)));
    if (canvas.width === width && canvas.height === height) return;
    canvas.width = width;
    canvas.height = height;
    inked = false;
    hidden.value = "";
  }

  function point(event) {
    var rect = canvas.getBoundingClientRect();
    return {x: (event.clientX - rect.left) * canvas.width / rect.width,
            y: (event.clientY - rect.top) * canvas.height / rect.height};
  }

  function stroke(from, to) {
    ctx.lineWidth = Math.max(2, canvas.width / 250);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    drawing = true;
    last = point(event);
    stroke(last, {x: last.x + 0.1, y: last.y + 0.1});
    inked = true;
    if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) return;
    event.preventDefault();
    var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    events.forEach(function (e) {
      var next = point(e);
      stroke(last, next);
      last = next;
    });
  });
  function stop() { drawing = false; last = null; }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  canvas.addEventListener("lostpointercapture", stop);

  form.querySelector("[data-signature-clear]").addEventListener("click", function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    inked = false;
    hidden.value = "";
  });

  // --- draw or type ---------------------------------------------------------------------------
  var drawBlock = form.querySelector("[data-signature-draw]");
  var typeBlock = form.querySelector("[data-signature-type]");
  function mode() {
    var checked = form.querySelector("input[name=signature_mode]:checked");
    return checked ? checked.value : "draw";
  }
  function showMode() {
    var typed = mode() === "type";
    drawBlock.hidden = typed;
    typeBlock.hidden = !typed;
    if (!typed) size();
  }
  form.querySelectorAll("input[name=signature_mode]").forEach(function (radio) {
    radio.addEventListener("change", showMode);
  });
  if (!form.querySelector("input[name=signature_mode]:checked")) {
    var first = form.querySelector("input[name=signature_mode][value=draw]");
    if (first) first.checked = true;
  }
  showMode();
  window.addEventListener("resize", function () { if (!inked) size(); });

  form.addEventListener("submit", function () {
    hidden.value = (mode() === "draw" && inked) ? canvas.toDataURL("image/png") : "";
  });

  // --- saving progress as the patient goes ----------------------------------------------------
  var url = form.getAttribute("data-progress-url");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var bar = document.getElementById("consent-progress");
  var progressText = document.querySelector("[data-progress-text]");
  var savedText = document.querySelector("[data-saved-text]");
  var timer = null;

  function collect() {
    var acknowledged = [], answers = {};
    form.querySelectorAll("input[type=checkbox][name^=ack_]").forEach(function (box) {
      if (box.checked) acknowledged.push(box.name.slice(4));
    });
    form.querySelectorAll("input[type=radio][name^=answer_]:checked").forEach(function (radio) {
      answers[radio.name.slice(7)] = radio.value;
    });
    return {acknowledged: acknowledged, answers: answers};
  }

  function save() {
    fetch(url, {method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                body: JSON.stringify(collect())})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { savedText.textContent = "Not saved: use Save and continue later."; return; }
        bar.value = body.progress.done;
        progressText.textContent = body.progress.done + " of " + body.progress.total + " done";
        savedText.textContent = "Saved";
        form.querySelectorAll("[data-check]").forEach(function (fieldset) {
          var key = fieldset.getAttribute("data-check");
          var note = fieldset.querySelector("[data-explanation]");
          var wrong = Object.prototype.hasOwnProperty.call(body.wrong, key);
          note.hidden = !wrong;
          fieldset.classList.toggle("has-error", wrong);
        });
      })
      .catch(function () { savedText.textContent = "Offline: not saved yet."; });
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name || "";
    if (name.indexOf("ack_") !== 0 && name.indexOf("answer_") !== 0) return;
    clearTimeout(timer);
    timer = setTimeout(save, 400);
  });

  var errors = document.querySelector("[data-form-errors]");
  if (errors) errors.focus();
})();
