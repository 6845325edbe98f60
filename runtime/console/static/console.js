// mcpfleet console: progressive enhancement only. Every page works without this file;
// it adds the live fleet table, confirmations for destructive forms and select-on-focus.
// Loaded from the same origin (CSP: script-src 'self'); no inline handlers anywhere.
"use strict";

(function () {
  function refreshLive(container) {
    var url = container.getAttribute("data-live");
    var every = parseInt(container.getAttribute("data-every") || "5000", 10);
    var stamp = document.getElementById("fleet-updated");
    var busy = false;

    function tick() {
      if (busy || document.hidden) { return; }
      // Never pull the table from under a keyboard user: wait until focus leaves it.
      if (container.contains(document.activeElement)) { return; }
      busy = true;
      fetch(url, { headers: { "X-Console-Fragment": "1" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status === 401) {
            window.location.assign("/signin?next=" + encodeURIComponent(window.location.pathname));
            return null;
          }
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          container.innerHTML = html;
          container.setAttribute("data-refreshed", String(Date.now()));
          if (stamp) { stamp.textContent = "updated " + new Date().toLocaleTimeString(); }
        })
        .catch(function (error) {
          if (stamp) { stamp.textContent = "live update failed (" + error.message + "); retrying"; }
        })
        .then(function () { busy = false; });
    }

    window.setInterval(tick, every);
    document.addEventListener("visibilitychange", tick);
  }

  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  function selectOnFocus() {
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(refreshLive);
    confirmForms();
    selectOnFocus();
  });
})();
