/* The report form: place the pin (tap, position, street, photo GPS), show similar
   reports nearby, show the chosen category's questions, stop double submits. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("report-form");
  var lat = document.getElementById("id_latitude");
  var lon = document.getElementById("id_longitude");
  var category = document.getElementById("id_category");
  var statusEl = document.getElementById("location-status");
  var map = Cetatea.map("pick-map");
  var marker = null;

  function place(la, lo, message) {
    lat.value = Number(la).toFixed(6);
    lon.value = Number(lo).toFixed(6);
    if (map) {
      if (marker) { marker.setLatLng([la, lo]); } else { marker = L.marker([la, lo]).addTo(map); }
      map.setView([la, lo], Math.max(map.getZoom(), 17));
    }
    statusEl.textContent = message;
    nearby();
  }

  if (map) {
    map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, form.dataset.placedMessage || "✓"); });
    if (lat.value && lon.value) { place(lat.value, lon.value, statusEl.textContent); }
  }

  var position = document.getElementById("use-position");
  if (navigator.geolocation && position) {
    position.hidden = false;
    position.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        place(p.coords.latitude, p.coords.longitude, "✓");
      });
    });
  }

  // A street chosen from the list places the pin at the street.
  document.getElementById("street-results").addEventListener("click", function (e) {
    var b = e.target.closest(".street-choice");
    if (!b) { return; }
    var address = document.getElementById("id_address_text");
    address.value = b.dataset.name;
    place(b.dataset.lat, b.dataset.lon, b.dataset.name);
    document.getElementById("street-results").innerHTML = "";
    address.focus();  // the chosen button is gone: keep keyboard users where they were
  });

  function showQuestions() {
    document.querySelectorAll(".category-extra").forEach(function (box) {
      var on = box.dataset.category === category.value;
      box.hidden = !on;
      box.querySelectorAll("input, select, textarea").forEach(function (i) { i.disabled = !on; });
    });
    nearby();
  }
  category.addEventListener("change", showQuestions);

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
      if (q && first && category.selectedOptions[0] && category.selectedOptions[0].hidden) {
        category.value = first.value;
        showQuestions();
      }
    });
  }

  function nearby() {
    if (!category.value || !lat.value || !lon.value) { return; }
    var url = form.dataset.nearbyUrl + "?" + new URLSearchParams({
      category: category.value, lat: lat.value, lon: lon.value,
    });
    fetch(url).then(function (r) { return r.text(); }).then(function (html) {
      document.getElementById("nearby").innerHTML = html;
    });
  }

  // The photo's own GPS position (read on the server, the photo is not kept) is offered.
  var photos = document.getElementById("id_photos");
  photos.addEventListener("change", function () {
    if (!photos.files.length || lat.value) { return; }
    var data = new FormData();
    data.append("photo", photos.files[0]);
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    fetch(form.dataset.photoLocationUrl, { method: "POST", body: data })
      .then(function (r) { return r.json(); })
      .then(function (d) { if (d.found) { place(d.lat, d.lon, "✓ GPS"); } });
  });

  // One click, one report: the button is disabled once the form is sent.
  form.addEventListener("submit", function () {
    var button = document.getElementById("submit-report");
    window.setTimeout(function () { button.disabled = true; }, 0);
  });
});
