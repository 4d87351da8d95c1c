// Draws every <canvas data-chart="ID"> from the JSON spec in the element ID (type, labels, datasets, stacked,
// horizontal), and sorts a table.sortable by the column whose header is clicked.
"use strict";

document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
  const spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
  const round = spec.type === "doughnut";
  const axis = { stacked: Boolean(spec.stacked), beginAtZero: true };
  new Chart(canvas, {
    type: spec.type,
    data: { labels: spec.labels, datasets: spec.datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? "y" : "x",
      scales: round ? {} : { x: axis, y: axis },
    },
  });
});

const cellValue = (row, index) => {
  const text = row.cells[index].textContent.trim();
  const number = Number(text);
  return text !== "" && !Number.isNaN(number) ? number : text;
};

document.querySelectorAll("table.sortable").forEach((table) => {
  table.querySelectorAll("thead th").forEach((header, index) => {
    header.addEventListener("click", () => {
      const body = table.tBodies[0];
      const descending = header.dataset.order !== "descending";
      const rows = Array.from(body.rows).sort((a, b) => {
        const [x, y] = [cellValue(a, index), cellValue(b, index)];
        const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return descending ? -order : order;
      });
      header.dataset.order = descending ? "descending" : "ascending";
      body.append(...rows);
    });
  });
});
