// The sales dashboard's charts (templates/opportunities/dashboard/_dashboard.html): each <canvas
// data-dashboard-chart="key"> is drawn from #sales-dashboard-data[key] (labels, values, links, label). A click
// on a bar or point opens the records behind it; the tables under the charts hold the same numbers and links.
(function () {
  "use strict";
  var source = document.getElementById("sales-dashboard-data");
  if (!source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  var rtl = document.documentElement.dir === "rtl";
  var locale = document.documentElement.lang || undefined;
  var number = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });

  function open(links) {
    return function (event, elements) {
      if (elements.length && links[elements[0].index]) { window.location.href = links[elements[0].index]; }
    };
  }

  function options(chart, extra) {
    var base = {
      animation: false,
      onClick: open(chart.links || []),
      onHover: function (event, elements) { event.native.target.style.cursor = elements.length ? "pointer" : "default"; },
      plugins: { legend: { display: false } },
      scales: { x: { reverse: rtl }, y: { beginAtZero: true, position: rtl ? "right" : "left",
                                         ticks: { callback: function (v) { return number.format(v); } } } }
    };
    return Object.assign(base, extra || {});
  }

  document.querySelectorAll("[data-dashboard-chart]").forEach(function (canvas) {
    var key = canvas.getAttribute("data-dashboard-chart");
    var chart = data[key];
    if (!chart) { return; }
    var datasets = [{ label: chart.label, data: chart.values }];
    var type = "bar";
    if (key === "win_rate" || key === "velocity") {
      type = "line";
      datasets[0].spanGaps = true;
      datasets[0].tension = 0.2;
    }
    if (key === "forecast" && chart.quota !== null) {
      datasets.push({ type: "line", label: chart.quota_label, data: chart.labels.map(function () { return chart.quota; }),
                      pointRadius: 0, borderDash: [6, 4] });
    }
    var extra = {};
    if (key === "funnel") {
      extra.indexAxis = "y";
      extra.scales = { x: { beginAtZero: true, reverse: rtl }, y: { position: rtl ? "right" : "left" } };
    }
    if (key === "forecast") { extra.plugins = { legend: { display: chart.quota !== null } }; }
    new window.Chart(canvas, { type: type, data: { labels: chart.labels, datasets: datasets }, options: options(chart, extra) });
  });
})();
