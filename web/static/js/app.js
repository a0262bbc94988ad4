// Small progressive enhancements shared by every page. The pages work without it.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.wartaCsrf = meta ? meta.getAttribute("content") : "";
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRFToken"] = window.wartaCsrf;
  });
})();
