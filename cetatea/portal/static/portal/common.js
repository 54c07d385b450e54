/* Shared by the map pages: read the map configuration, build a Leaflet map. */
"use strict";
window.Cetatea = {
  config: function () {
    var el = document.getElementById("map-config");
    return el ? JSON.parse(el.textContent) : null;
  },
  map: function (elementId, options) {
    var cfg = Cetatea.config();
    var el = document.getElementById(elementId);
    if (!cfg || !el || typeof L === "undefined") { return null; }
    var map = L.map(el, options || {}).setView(cfg.center, cfg.zoom);
    // The page keeps working when the tiles cannot load (no internet on an intranet).
    L.tileLayer(cfg.tiles, { attribution: cfg.attribution, maxZoom: 19 }).addTo(map);
    return map;
  },
};
