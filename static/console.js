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
    // Beside the 受理 form: the enterprise's file and the likely repeats, as the operator types;
    // for a consultation, the policies of the knowledge base its words match.
    var panel = document.querySelector("[data-similar-panel]");
    if (panel) {
      var form = document.getElementById("new-ticket");
      var asked = "";
      var refresh = function () {
        var value = function (name) { return form.elements[name].value.trim(); };
        var query = "subject=" + encodeURIComponent(value("subject")) +
          "&description=" + encodeURIComponent(value("description").slice(0, 600)) +
          "&credit_code=" + encodeURIComponent(value("enterprise.credit_code")) +
          "&category=" + encodeURIComponent(value("category"));
        if (query === asked) return;
        asked = query;
        var chosen = document.querySelector("input[name=duplicate_of]:checked");
        fetch("/tickets/new/similar?" + query, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (html === null || query !== asked) return;
            panel.innerHTML = html;
            // Keep the operator's choice when the list is drawn again.
            var again = chosen && panel.querySelector("input[name=duplicate_of][value='" + chosen.value + "']");
            if (again) again.checked = true;
          })
          .catch(function () { /* the panel is a help; the form works without it */ });
      };
      var wait = null;
      ["subject", "description", "enterprise.credit_code"].forEach(function (name) {
        form.elements[name].addEventListener("input", function () {
          clearTimeout(wait);
          wait = setTimeout(refresh, 500);
        });
      });
      // A category chosen is a category decided: no need to wait.
      form.elements.category.addEventListener("change", function () {
        clearTimeout(wait);
        refresh();
      });
      refresh();
    }
    // A form sent twice (a double click) is one case anyway; do not even send it twice.
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      form.addEventListener("submit", function (e) {
        if (form.dataset.sent) { e.preventDefault(); return; }
        form.dataset.sent = "1";
      });
    });
  });
})();
