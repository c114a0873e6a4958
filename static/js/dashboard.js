// Program figures: weekly and monthly bar charts of walk-ins and placements, drawn with the
// vendored Chart.js from the data the page passes with json_script. The same numbers are in
// tables on the page, so nothing is lost without JavaScript.
(function () {
  "use strict";

  const source = document.getElementById("chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);

  function draw(canvasId, series) {
    const canvas = document.getElementById(canvasId);
    if (!canvas || !series) return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [
          { label: "Walk-ins", data: series.walk_ins, backgroundColor: "#1f7a8c" },
          { label: "Placed in treatment", data: series.placed, backgroundColor: "#12355b" },
        ],
      },
      options: {
        animation: false,
        aspectRatio: 2,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  draw("weekly-chart", data.weekly);
  draw("monthly-chart", data.monthly);
})();
