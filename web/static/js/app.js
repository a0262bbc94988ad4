// Small progressive enhancements shared by every page. The pages work without it.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.wartaCsrf = meta ? meta.getAttribute("content") : "";
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRFToken"] = window.wartaCsrf;
  });
})();

// Destructive or public-facing actions ask first: <form data-confirm="…">. No inline handler,
// so the pages keep working under a Content-Security-Policy without 'unsafe-inline'.
document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
}, true);

// A table wider than the screen scrolls inside its .table-wrap; keyboard users must be able to
// reach that region to scroll it (WCAG 2.1.1), so a wrap that actually scrolls becomes a named,
// focusable region. Wraps that fit stay out of the Tab order.
(function () {
  "use strict";
  function mark(root) {
    var wraps = (root || document).querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) {
      var w = wraps[i];
      if (w.scrollWidth > w.clientWidth + 1) {
        var caption = w.querySelector("caption");
        w.setAttribute("tabindex", "0");
        w.setAttribute("role", "region");
        if (!w.hasAttribute("aria-label")) {
          w.setAttribute("aria-label", caption ? caption.textContent.trim()
                                               : (document.title || "").trim());
        }
      } else if (w.getAttribute("tabindex") === "0") {
        w.removeAttribute("tabindex");
        w.removeAttribute("role");
      }
    }
  }
  document.addEventListener("DOMContentLoaded", function () { mark(document); });
  window.addEventListener("resize", function () { mark(document); });
  document.addEventListener("htmx:afterSettle", function (e) { mark(e.target); });
})();
