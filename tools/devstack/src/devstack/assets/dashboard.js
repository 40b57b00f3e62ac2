// Draws the dashboard's charts with uPlot (served by the local server: no CDN) from the series the page
// embeds as JSON. Each chart records how many values it drew, for the browser test.
(function () {
  const specs = JSON.parse(document.getElementById("charts").textContent);
  for (const spec of specs) {
    const target = document.getElementById(spec.id);
    const drawn = spec.data.slice(1).flat().filter((v) => v !== null).length;
    const series = [{ label: "time" }].concat(spec.series.map((s) => ({
      label: s.label,
      stroke: s.colour,
      width: s.points ? 0 : 1.8,
      spanGaps: true,
      points: s.points ? { show: true, size: 7, fill: s.colour, stroke: s.colour } : { show: false },
    })));
    const chart = new uPlot({
      width: Math.max(target.clientWidth, 360),
      height: 230,
      series: series,
      axes: [
        { label: "local time", labelSize: 18, stroke: "#555", grid: { stroke: "#eceff1" } },
        { label: spec.yLabel, labelSize: 18, stroke: "#555", grid: { stroke: "#eceff1" } },
      ],
      scales: { x: { time: true } },
      legend: { live: false },
    }, spec.data, target);
    target.dataset.drawn = String(drawn);
    target.dataset.series = String(chart.series.length - 1);
  }
})();
