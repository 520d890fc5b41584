// A table wider than the screen scrolls inside its own box (queue.css, on a
// phone): make that box reachable by Tab, so that a keyboard can scroll it too.
// Only while it does scroll; a table that fits is left alone.
(function () {
  "use strict";

  function mark() {
    document.querySelectorAll("main table").forEach(function (table) {
      var scrolls = table.scrollWidth > table.clientWidth + 1;
      if (scrolls && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
        table.dataset.scrollFocus = "1";
      } else if (!scrolls && table.dataset.scrollFocus) {
        table.removeAttribute("tabindex");
        delete table.dataset.scrollFocus;
      }
    });
  }

  mark();
  window.addEventListener("resize", mark);
  // A table inside <details> has no width until it opens.
  document.addEventListener("toggle", mark, true);
})();
