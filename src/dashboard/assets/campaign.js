// The campaign page's live part: the numbers and the chart follow the campaign's rollup without a reload. The
// server sends an event "numbers" (Server-Sent Events, GET /campaigns/:id/live) at every change: the text of every
// cell by its data-cell name, and the opens and clicks per hour. The chart is uPlot (served by this server); its
// numbers are also in the table under it, for screen readers and keyboards.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var dataElement = document.getElementById("report-data");
  if (!status || !dataElement) return;
  var series = JSON.parse(dataElement.textContent).series;
  var chartElement = document.getElementById("chart");
  var plot = null;

  function chartData(hours) {
    return [
      hours.map(function (h) { return Date.parse(h.hour) / 1000; }),
      hours.map(function (h) { return h.opens; }),
      hours.map(function (h) { return h.opensHuman; }),
      hours.map(function (h) { return h.clicks; }),
      hours.map(function (h) { return h.clicksHuman; }),
    ];
  }

  function chartWidth() {
    return Math.max(240, chartElement.clientWidth || 600);
  }

  function drawChart() {
    var empty = series.length === 0;
    document.getElementById("chart-empty").hidden = !empty;
    document.getElementById("chart-table").hidden = empty;
    if (empty || typeof uPlot !== "function") return;
    if (plot) {
      plot.setData(chartData(series));
      return;
    }
    plot = new uPlot({
      width: chartWidth(),
      height: 260,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: {
        // One hour alone would be drawn across years: show at least the hour before and after it.
        x: {
          time: true,
          range: function (u) {
            var hours = u.data[0];
            var first = hours[0], last = hours[hours.length - 1];
            return first === last ? [first - 3600, last + 3600] : [first, last];
          },
        },
        y: { range: function (u, min, max) { return [0, Math.max(1, Math.ceil(max * 1.1))]; } },
      },
      series: [
        { label: "Hour (UTC)" },
        { label: "Opens", stroke: "#0b5cad", width: 2, points: { show: true } },
        { label: "Opens by people", stroke: "#0b5cad", dash: [6, 4], width: 2, points: { show: true } },
        { label: "Clicks", stroke: "#a34700", width: 2, points: { show: true } },
        { label: "Clicks by people", stroke: "#a34700", dash: [6, 4], width: 2, points: { show: true } },
      ],
      axes: [{}, { label: "per hour" }],
    }, chartData(series), chartElement);
  }

  var integer = new Intl.NumberFormat("en-US");
  function time(iso) { return iso.slice(0, 16).replace("T", " ") + " UTC"; }
  function cellElement(text, header) {
    var element = document.createElement(header ? "th" : "td");
    if (header) element.scope = "row"; else element.className = "num";
    element.textContent = text;
    return element;
  }
  function drawTable() {
    var body = document.getElementById("series-rows");
    var rows = series.map(function (h) {
      var row = document.createElement("tr");
      row.append(cellElement(time(h.hour), true), cellElement(integer.format(h.opens)), cellElement(integer.format(h.opensHuman)),
        cellElement(integer.format(h.clicks)), cellElement(integer.format(h.clicksHuman)));
      return row;
    });
    body.replaceChildren.apply(body, rows);
  }

  function applyCells(cells) {
    document.querySelectorAll("[data-cell]").forEach(function (element) {
      var text = cells[element.getAttribute("data-cell")];
      if (text !== undefined && element.textContent !== text) element.textContent = text;
    });
  }

  drawChart();
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { if (plot) plot.setSize({ width: chartWidth(), height: 260 }); }, 150);
  });

  if (typeof EventSource !== "function") return;
  var source = new EventSource(status.getAttribute("data-live"));
  source.addEventListener("open", function () {
    status.textContent = "Live: the numbers update as events arrive.";
  });
  source.addEventListener("numbers", function (event) {
    var update = JSON.parse(event.data);
    applyCells(update.cells);
    series = update.series;
    drawChart();
    drawTable();
    status.setAttribute("data-updated", String(Date.now()));
  });
  source.addEventListener("signed-out", function (event) {
    source.close();
    status.textContent = JSON.parse(event.data).reason + " The numbers no longer update.";
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) status.textContent = "Not live: reload the page to follow the numbers.";
  });
})();
