/* The overview's map: areas coloured by the cases received (a choropleth) and, on
   request, a binned heat map of the received cases. The numbers are also in a table. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var dataEl = document.getElementById("map-data");
  if (!dataEl || !window.Cetatea) { return; }
  var data = JSON.parse(dataEl.textContent);
  var map = Cetatea.map("insights-map");
  if (!map) { return; }
  // Five classes, light to dark; the legend names each range (not colour alone).
  var colours = ["#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"];
  function classes(values) {
    var top = Math.max.apply(null, [1].concat(values));
    var step = Math.max(1, Math.ceil(top / colours.length));
    return { step: step, of: function (v) { return Math.min(colours.length - 1, Math.floor((v - (v > 0 ? 1 : 0)) / step)); } };
  }
  var areaClasses = classes(data.areas.map(function (a) { return a.received; }));
  var areas = L.geoJSON(null, {
    style: function (f) {
      return { color: "#1b1f24", weight: 1, fillOpacity: 0.7, fillColor: colours[areaClasses.of(f.properties.received)] };
    },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(f.properties.name + ": " + f.properties.received + " " + data.labels.received +
        ", " + f.properties.open + " " + data.labels.open + ", " + f.properties.overdue + " " + data.labels.overdue);
    },
  });
  data.areas.forEach(function (a) {
    areas.addData({ type: "Feature", geometry: a.geometry, properties: a });
  });
  areas.addTo(map);
  if (areas.getLayers().length) { map.fitBounds(areas.getBounds()); }

  var heatClasses = classes(data.heat.map(function (c) { return c[2]; }));
  var heat = L.layerGroup();
  var half = data.cell / 2;
  data.heat.forEach(function (c) {
    L.rectangle([[c[0] - half, c[1] - half], [c[0] + half, c[1] + half]], {
      weight: 0, fillOpacity: 0.75, fillColor: colours[heatClasses.of(c[2])],
    }).bindTooltip(c[2] + " " + data.labels.received).addTo(heat);
  });

  var legend = document.getElementById("map-legend");
  function drawLegend(cls) {
    legend.textContent = "";
    colours.forEach(function (colour, i) {
      var lo = i * cls.step + 1;
      var hi = (i + 1) * cls.step;
      var item = document.createElement("span");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colour;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(lo + "–" + hi + " " + data.labels.received));
      legend.appendChild(item);
    });
  }
  drawLegend(areaClasses);
  var toggle = document.getElementById("heat-toggle");
  toggle.closest("p").hidden = false;
  toggle.addEventListener("change", function () {
    if (toggle.checked) {
      map.removeLayer(areas); heat.addTo(map); drawLegend(heatClasses);
    } else {
      map.removeLayer(heat); areas.addTo(map); drawLegend(areaClasses);
    }
  });
});
