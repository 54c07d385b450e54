/* The operator's intake form: place the point (map click or street), narrow the
   categories, refresh the panel of similar cases and the caller's own cases, stop
   double submits. The form works without this file. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("intake-form");
  if (!form) { return; }
  var lat = document.getElementById("id_latitude");
  var lon = document.getElementById("id_longitude");
  var category = document.getElementById("id_category");
  var statusEl = document.getElementById("location-status");
  var map = Cetatea.map("pick-map");
  var marker = null;

  function refreshPanel() {
    var person = form.querySelector("[name=person]:checked");
    var url = form.dataset.panelUrl + "?" + new URLSearchParams({
      category: category.value, latitude: lat.value, longitude: lon.value,
      person: person ? person.value : "",
    });
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { document.getElementById("intake-panel").innerHTML = html; });
  }

  function place(la, lo, message) {
    lat.value = Number(la).toFixed(6);
    lon.value = Number(lo).toFixed(6);
    if (map) {
      if (marker) { marker.setLatLng([la, lo]); } else { marker = L.marker([la, lo]).addTo(map); }
      map.setView([la, lo], Math.max(map.getZoom(), 17));
    }
    statusEl.textContent = message;
    refreshPanel();
  }

  if (map) {
    map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, "✓"); });
    if (lat.value && lon.value) { place(lat.value, lon.value, statusEl.textContent); }
  }

  document.getElementById("street-results").addEventListener("click", function (e) {
    var b = e.target.closest(".street-choice");
    if (!b) { return; }
    var address = document.getElementById("id_address_text");
    address.value = b.dataset.name;
    place(b.dataset.lat, b.dataset.lon, b.dataset.name);
    document.getElementById("street-results").innerHTML = "";
    address.focus();
  });

  category.addEventListener("change", refreshPanel);
  form.addEventListener("change", function (e) {
    if (e.target.name === "person") { refreshPanel(); }
  });

  // Searchable categories: typing narrows the list (diacritics ignored).
  var filter = document.getElementById("category-filter");
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  if (filter) {
    filter.parentElement.hidden = false;
    filter.addEventListener("input", function () {
      var q = fold(filter.value.trim());
      var first = null;
      category.querySelectorAll("option").forEach(function (o) {
        var match = !o.value || !q || fold(o.textContent).indexOf(q) !== -1;
        o.hidden = !match;
        if (match && o.value && !first) { first = o; }
      });
      category.querySelectorAll("optgroup").forEach(function (g) {
        g.hidden = !Array.prototype.some.call(g.children, function (o) { return !o.hidden; });
      });
      if (q && first && (!category.value || category.selectedOptions[0].hidden)) {
        category.value = first.value;
        refreshPanel();
      }
    });
  }

  // Enter in the search box searches (htmx), it does not file the request.
  document.getElementById("id_q").addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); }
  });

  // One click, one case.
  form.addEventListener("submit", function (e) {
    var button = e.submitter;
    if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
  });
});
