// closedloop console: checks the credit code and the phone while they are typed, with the same
// validators as the API (GET /tickets/new/check). Everything works without this script; it only
// says sooner what the form would say when sent.
"use strict";
(function () {
  function check(input) {
    var live = document.getElementById(input.id + "-live");
    if (!live) return;
    var value = input.value.trim();
    if (!value) {
      live.textContent = "";
      live.className = "live";
      return;
    }
    var url = "/tickets/new/check?field=" + encodeURIComponent(input.dataset.check) +
      "&value=" + encodeURIComponent(value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (!answer || input.value.trim() !== value) return;
        live.textContent = answer.message;
        live.className = "live " + (answer.ok ? "ok" : "bad");
        input.setAttribute("aria-invalid", answer.ok ? "false" : "true");
      })
      .catch(function () { /* the form is checked again when it is sent */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var fields = document.querySelectorAll("input[data-check]");
    Array.prototype.forEach.call(fields, function (input) {
      var timer = null;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { check(input); }, 300);
      });
      input.addEventListener("blur", function () { check(input); });
    });
    // A form sent twice (a double click) is one case anyway; do not even send it twice.
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      form.addEventListener("submit", function (e) {
        if (form.dataset.sent) { e.preventDefault(); return; }
        form.dataset.sent = "1";
      });
    });
  });
})();
