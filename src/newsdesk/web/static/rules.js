// The Rules page: a live preview of the stored entries a rule's query matches, asked of
// /rules/preview a moment after the typing stops (one request at a time: a newer one aborts
// the older). Loaded as a file (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  var input = document.getElementById("rule-query");
  var box = document.getElementById("rule-preview");
  if (!input || !box) return;
  var url = box.getAttribute("data-preview");
  var DELAY = 300;
  var timer = null;
  var pending = null;
  var shown = null;

  function ask() {
    var query = input.value.trim();
    if (query === shown) return;
    if (pending) pending.abort();
    var controller = window.AbortController ? new AbortController() : null;
    pending = controller;
    box.setAttribute("aria-busy", "true");
    fetch(url + "?q=" + encodeURIComponent(query), {
      credentials: "same-origin",
      headers: { "Accept": "text/html" },
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) {
        // A 400 carries the query's fault as a piece of the page: show it as well.
        return response.text();
      })
      .then(function (html) {
        if (pending !== controller) return;
        box.innerHTML = html; // our own server's template, escaped there
        box.removeAttribute("aria-busy");
        shown = query;
        pending = null;
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        box.removeAttribute("aria-busy");
        box.textContent = "The preview is not available just now.";
        pending = null;
      });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, DELAY);
  });
  if (input.value.trim()) ask();
})();
