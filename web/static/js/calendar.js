// Drag an unpublished item to another day: POST the new local time, then reload.
(function () {
  "use strict";
  var cal = document.getElementById("calendar");
  if (!cal) { return; }
  var status = document.getElementById("cal-status");
  var dragged = null;
  cal.addEventListener("dragstart", function (e) {
    dragged = e.target.closest("[data-post]");
    if (dragged) { e.dataTransfer.setData("text/plain", dragged.dataset.post); }
  });
  cal.addEventListener("dragover", function (e) {
    var cell = e.target.closest(".cell");
    if (dragged && cell) { e.preventDefault(); cell.classList.add("drop"); }
  });
  cal.addEventListener("dragleave", function (e) {
    var cell = e.target.closest(".cell");
    if (cell) { cell.classList.remove("drop"); }
  });
  cal.addEventListener("drop", function (e) {
    var cell = e.target.closest(".cell");
    if (!dragged || !cell) { return; }
    e.preventDefault();
    cell.classList.remove("drop");
    var when = cell.dataset.date + "T" + dragged.dataset.time;
    fetch("/unggahan/" + dragged.dataset.post + "/jadwal", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": window.wartaCsrf},
      body: JSON.stringify({when: when})
    }).then(function (r) { return r.json().then(function (d) { return [r.ok, d]; }); })
      .then(function (res) {
        if (res[0]) { window.location.reload(); } else { status.textContent = res[1].error || "Error"; }
      });
    dragged = null;
  });
})();
