// The upload page (gateway/web/upload.py): no click or Enter ends a workforce silently.
// 1. Enter in a field never submits (the form's disabled default button does that without
//    script too).
// 2. "Kirim roster" first asks for a check (the same form, action=check, ?format=json); when
//    the file would end more than the configured share of the agency's active workers, the
//    count and a masked sample are shown, and the form is sent only once the clerk types that
//    number and confirms. The server refuses an unconfirmed or wrongly confirmed one anyway.
// 3. A submitted roster's page polls its run and reloads when it is done.
(function () {
  "use strict";
  var script = document.getElementById("upload-script");
  var form = document.getElementById("upload-form");
  var pending = document.getElementById("pending");

  if (pending) {
    var bar = document.getElementById("upload-progress");
    var rows = document.querySelector("#upload-rows span");
    var poll = function () {
      fetch(pending.dataset.statusUrl, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.status !== "running") { window.location.replace(pending.dataset.doneUrl); return; }
          if (s.fraction !== null && s.fraction !== undefined) { bar.value = s.fraction; }
          rows.textContent = Number(s.rows || 0).toLocaleString("id-ID");
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 500);
  }
  if (!form) { return; }

  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target.tagName === "INPUT") { event.preventDefault(); }
  });

  var status = document.getElementById("upload-status");
  var step = document.getElementById("confirm-step");
  var confirmInput = document.getElementById("confirm-endings");
  var submitButton = document.getElementById("submit-roster");
  var expected = null;
  var confirmed = false;

  var send = function () {
    confirmed = true;
    status.textContent = script.dataset.sending;
    form.requestSubmit(submitButton);
  };

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.value !== "submit" || confirmed) { return; }
    event.preventDefault();
    if (!form.reportValidity()) { return; }
    var data = new FormData(form);
    data.set("action", "check");
    data.delete("confirm_endings");
    status.textContent = script.dataset.checking;
    fetch(form.getAttribute("action") + "?format=json", {method: "POST", body: data, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (report) {
        var endings = report && report.endings;
        if (!endings || !endings.needs_confirmation) { send(); return; }
        expected = endings.would_end;
        status.textContent = "";
        document.getElementById("confirm-text").textContent = report.endings_text;
        var list = document.getElementById("confirm-sample");
        list.textContent = "";
        endings.sample.forEach(function (one) {
          var item = document.createElement("li");
          item.textContent = one.nik + " · " + (one.position || "-") + " · " + (one.work_unit || "-");
          list.appendChild(item);
        });
        step.hidden = false;
        confirmInput.value = "";
        confirmInput.focus();
      })
      .catch(function () { send(); });  // the server still refuses an unconfirmed one
  });

  document.getElementById("confirm-submit").addEventListener("click", function () {
    var typed = confirmInput.value.trim();
    if (expected !== null && typed !== String(expected)) {
      status.textContent = script.dataset.mismatch;
      confirmInput.focus();
      return;
    }
    if (!typed) { confirmInput.focus(); return; }
    send();
  });
  document.getElementById("confirm-cancel").addEventListener("click", function () {
    step.hidden = true;
    confirmInput.value = "";
    expected = null;
  });
}());
