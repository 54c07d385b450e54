// The kanban: after a card is moved (htmx replaces the columns), keyboard focus goes
// back to the moved card's column select, so the user is not thrown to the page top.
// The move itself is announced by the #move-status live region.
document.body.addEventListener("htmx:afterSwap", (event) => {
  if (event.target.id !== "kanban") return;
  const moved = event.target.querySelector("[data-moved] select");
  if (moved) moved.focus();
});

// A refused move (409: someone else moved or changed the card; 400: a bad form) comes
// with the columns as they are now and the reason: show them instead of ignoring them.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (event.detail.target.id === "kanban" && (status === 409 || status === 400)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
