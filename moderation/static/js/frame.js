// Inside the iframe: tell the embedding page our height, and only that page.
// The server names the parent's origin only when it is one the site allows;
// without it we post nothing (never postMessage(..., "*")).
(function () {
  "use strict";
  var main = document.querySelector("main[data-parent-origin]");
  var parentOrigin = main ? main.getAttribute("data-parent-origin") : "";
  var lastHeight = 0;

  function report() {
    if (!parentOrigin || window.parent === window) return;
    // The content's own height: scrollHeight is never less than the iframe's
    // viewport, so measured that way a frame could grow but never shrink.
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === lastHeight) return;
    lastHeight = height;
    window.parent.postMessage({ type: "moderation:height", height: height }, parentOrigin);
  }

  if ("ResizeObserver" in window) {
    new ResizeObserver(report).observe(document.documentElement);
  }
  window.addEventListener("load", report);
  report();

  // After a post, bring the announcement into view (it is also aria-live).
  var result = document.getElementById("result");
  if (result && result.textContent.trim()) {
    result.setAttribute("tabindex", "-1");
    result.focus({ preventScroll: true });
    if (parentOrigin && window.parent !== window) {
      window.parent.postMessage(
        { type: "moderation:scroll", top: result.getBoundingClientRect().top },
        parentOrigin
      );
    }
  }
})();
