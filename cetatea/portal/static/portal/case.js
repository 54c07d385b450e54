"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("case-map");
  if (!el) { return; }
  var map = Cetatea.map("case-map", { scrollWheelZoom: false });
  if (!map) { return; }
  var point = [Number(el.dataset.lat), Number(el.dataset.lon)];
  map.setView(point, 17);
  L.marker(point, { keyboard: false }).addTo(map);
});
