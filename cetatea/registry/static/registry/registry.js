/* The clerk's registry pages: show the new-person fields only when they are used, keep
   Enter in the sender search from registering, move the focus to the error summary,
   and stop double clicks. Every page works without this file. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  var form = document.getElementById("register-form");
  if (form) {
    var newPerson = document.getElementById("new-person");
    var syncNewPerson = function () {
      var chosen = form.querySelector("[name=person]:checked");
      var show = chosen && chosen.value === "new";
      var invalid = newPerson.querySelector("[aria-invalid=true]");
      newPerson.hidden = !show && !invalid;
    };
    form.addEventListener("change", function (e) {
      if (e.target.name === "person") { syncNewPerson(); }
    });
    document.body.addEventListener("htmx:afterSwap", syncNewPerson);
    syncNewPerson();

    // Enter in the search box searches (htmx); it does not register the document.
    var q = document.getElementById("id_q");
    if (q) {
      q.addEventListener("keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); }
      });
    }
  }

  // One click, one registration (the server also keeps a one-time token per form).
  document.querySelectorAll("form[method=post]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      var button = e.submitter;
      if (button && button.name !== "search") {
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  });
});
