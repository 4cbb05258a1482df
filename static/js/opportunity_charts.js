// Sales-velocity trend on the stage history page: <canvas data-velocity-chart> drawn from the JSON in
// #velocity-data (labels, values, label). The table under it holds the same numbers.
(function () {
  "use strict";
  var canvas = document.querySelector("[data-velocity-chart]");
  var data = document.getElementById("velocity-data");
  if (!canvas || !data || !window.Chart) { return; }
  var chart = JSON.parse(data.textContent);
  var rtl = document.documentElement.dir === "rtl";
  new window.Chart(canvas, {
    type: "line",
    data: { labels: chart.labels, datasets: [{ label: chart.label, data: chart.values, spanGaps: true, tension: 0.2 }] },
    options: { animation: false, plugins: { legend: { display: false } },
               scales: { x: { reverse: rtl }, y: { beginAtZero: true, position: rtl ? "right" : "left" } } }
  });
})();
