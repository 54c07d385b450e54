/* My assignments on a map; the list on the page has the same cases. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var map = Cetatea.map("field-map");
  var el = document.getElementById("field-pins");
  if (!map || !el) { return; }
  var pins = JSON.parse(el.textContent);
  var bounds = [];
  pins.forEach(function (p) {
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.ref + " — " + p.title;
    L.marker([p.lat, p.lon]).addTo(map).bindPopup(link);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length) { map.fitBounds(bounds, { maxZoom: 17, padding: [20, 20] }); }
});
