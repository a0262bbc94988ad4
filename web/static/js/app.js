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
