// The channel page: after htmx appends messages, drop any already shown (a poll and a
// post may both bring the same one), hide "no messages yet", and keep the focus in the
// message box after sending.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = document.getElementById("message-list");
    if (!list || event.detail.target !== list) return;
    var seen = {};
    Array.prototype.slice.call(list.children).forEach(function (item) {
      if (seen[item.id]) item.remove(); else seen[item.id] = true;
    });
    var empty = document.getElementById("chat-empty");
    if (empty && list.children.length) empty.remove();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "post-form" && event.detail.successful) {
      var box = document.getElementById("id_body");
      if (box) box.focus();
    }
  });
})();
