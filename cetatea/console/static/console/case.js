// Picking a canned response fills the reply box (without JavaScript, "Use" reloads the
// page with the text filled in by the server).
document.addEventListener("DOMContentLoaded", function () {
  var select = document.getElementById("canned");
  if (!select) return;
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    var box = document.getElementById(select.dataset.target);
    if (!box || !option || !option.dataset.text) return;
    box.value = option.dataset.text;
    var pub = document.getElementById("id_note-public");
    if (pub) pub.checked = true;
    box.focus();
  });
});
