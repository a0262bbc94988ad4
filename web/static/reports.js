/* Reports page: draws the charts from the numbers embedded in the page, makes tables sortable,
   and submits the filter form when the period changes. Without JS the tables still show every
   number and the form still works with its button. */
(function () {
  "use strict";
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"];

  function drawTime() {
    var el = document.getElementById("report-data");
    var canvas = document.getElementById("chart-time");
    if (!el || !canvas || !window.Chart) return;
    var data = JSON.parse(el.textContent);
    var chart = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.days,
        datasets: data.series.map(function (s, i) {
          return {label: s.label || s.platform, data: s.values, spanGaps: true,
                  borderColor: COLORS[i % COLORS.length],
                  backgroundColor: COLORS[i % COLORS.length]};
        })
      },
      options: {responsive: true, maintainAspectRatio: false, animation: false,
                locale: document.documentElement.lang || "id",
                scales: {y: {beginAtZero: true}}}
    });
    canvas.dataset.series = String(data.series.length);
    canvas.dataset.points = String(data.days.length);
    window.wartaCharts = (window.wartaCharts || []).concat([chart]);
  }

  // The time axis comes with the data (web/reports/charts.py): left to itself, Chart.js
  // widens a single instant by 5 % of its milliseconds since 1970, about three years.
  function drawHistory() {
    var el = document.getElementById("history-data");
    var canvas = document.getElementById("chart-history");
    if (!el || !canvas || !window.Chart) return;
    var data = JSON.parse(el.textContent);
    var lang = document.documentElement.lang || "id";
    var x = {type: "linear", ticks: {callback: function (v) {
      return new Date(v).toLocaleString(lang, {dateStyle: "short", timeStyle: "short",
                                               timeZone: data.zone});
    }}};
    if (data.x) {
      x.min = data.x.min;
      x.max = data.x.max;
      x.ticks.stepSize = data.x.step;
    }
    var chart = new Chart(canvas, {
      type: "line",
      data: {datasets: data.series.map(function (s, i) {
        return {label: s.label, data: s.points, borderColor: COLORS[i % COLORS.length],
                spanGaps: true};
      })},
      options: {responsive: true, maintainAspectRatio: false, animation: false,
                parsing: false, locale: lang, scales: {x: x, y: {beginAtZero: true}}}
    });
    window.wartaCharts = (window.wartaCharts || []).concat([chart]);
  }

  function sortable(table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      th.tabIndex = 0;
      th.setAttribute("aria-sort", "none");
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = th.dataset.sort === "num";
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          if (!x || !y) return 0;
          var vx = numeric ? x.dataset.value : x.textContent.trim();
          var vy = numeric ? y.dataset.value : y.textContent.trim();
          if (numeric) {
            vx = vx === "" ? -Infinity : parseFloat(vx);
            vy = vy === "" ? -Infinity : parseFloat(vy);
            return asc ? vx - vy : vy - vx;
          }
          return asc ? vx.localeCompare(vy) : vy.localeCompare(vx);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
  }

  function autoSubmit() {
    var form = document.getElementById("report-filters");
    if (!form) return;
    var period = form.querySelector("#period");
    period.addEventListener("change", function () {
      if (period.value !== "custom") {
        form.querySelector("[name=from]").value = "";
        form.querySelector("[name=to]").value = "";
        form.submit();
      }
    });
  }

  // The page's Content-Security-Policy allows no inline script or style: the print button
  // and the heatmap's shades are wired here instead of in onclick= / style= attributes.
  function printButtons() {
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }

  function heatmapLevels() {
    document.querySelectorAll("td.hm[data-level]").forEach(function (td) {
      td.style.setProperty("--level", td.getAttribute("data-level"));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    printButtons();
    heatmapLevels();
    drawTime();
    drawHistory();
    document.querySelectorAll("table.sortable").forEach(sortable);
    autoSubmit();
  });
})();
