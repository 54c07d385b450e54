/* The public map: asks the server for pins or clusters of the visible box. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var mapEl = document.getElementById("map");
  var map = Cetatea.map("map");
  if (!map) { return; }
  var layer = L.layerGroup().addTo(map);
  var status = document.getElementById("map-status");
  var form = document.getElementById("map-filters");
  var caseBase = mapEl.dataset.caseBase;
  var pending = null;

  function query() {
    var params = new URLSearchParams(new FormData(form));
    params.set("bbox", map.getBounds().toBBoxString());
    params.set("zoom", map.getZoom());
    return mapEl.dataset.featuresUrl + "?" + params.toString();
  }

  function draw(data) {
    layer.clearLayers();
    (data.clusters || []).forEach(function (c) {
      var size = 28 + Math.min(30, Math.round(Math.log2(c.count + 1) * 4));
      var icon = L.divIcon({
        className: "cluster",
        html: "<span>" + c.count + "</span>",
        iconSize: [size, size],
      });
      L.marker([c.lat, c.lon], {
        icon: icon,
        keyboard: true,
        title: c.count + " " + mapEl.dataset.labelCases + " (" + c.open + " " + mapEl.dataset.labelOpen + ")",
      }).on("click", function () { map.setView([c.lat, c.lon], map.getZoom() + 2); }).addTo(layer);
    });
    (data.pins || []).forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lon], {
        radius: 8, weight: 2, color: p.open ? "#a4161a" : "#2b6a2f", fillOpacity: 0.8,
      });
      var link = document.createElement("a");
      link.href = caseBase + encodeURIComponent(p.ref) + "/";
      link.textContent = p.ref + " — " + p.title;
      var box = document.createElement("div");
      box.appendChild(link);
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(p.category_label + " · " + p.status_label + " · " + p.date));
      marker.bindPopup(box).addTo(layer);
    });
    var n = (data.pins || []).length;
    status.textContent = data.kind === "pins" ? n + " " + mapEl.dataset.labelCases : "";
  }

  function load() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(query(), { signal: pending.signal, headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(draw)
      .catch(function () {});
  }
  map.on("moveend", load);
  form.addEventListener("change", load);
  load();
});
