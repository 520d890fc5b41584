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
    // The content's own height: scrollHeight never drops below the iframe's
    // viewport, so a frame measured that way could grow but never shrink.
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

  var result = document.getElementById("result");
  // After a post, bring the announcement into view (it is also aria-live).
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

  // A comment still being checked: ask how it ended, then show the thread as
  // its poster should see it. Polling stops after about two minutes.
  var receiptUrl = result && result.getAttribute("data-receipt-url");
  var reloadUrl = result && result.getAttribute("data-reload-url");
  if (receiptUrl && reloadUrl && window.fetch) {
    var tries = 0;
    var poll = function () {
      tries += 1;
      fetch(receiptUrl, { credentials: "omit", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (body && body.status && body.status !== "received") {
            window.location.replace(reloadUrl);
          } else if (tries < 40) {
            window.setTimeout(poll, tries < 10 ? 1000 : 3000);
          }
        })
        .catch(function () {
          if (tries < 40) window.setTimeout(poll, 3000);
        });
    };
    window.setTimeout(poll, 1000);
  }
})();
