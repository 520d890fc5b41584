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

  // "Load more": the link opens the next page inside the frame without script;
  // with it, fetch only that page's comments, append them, and keep the reader
  // where they were. The ResizeObserver above then reports the new height.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.load-more") : null;
    var list = document.getElementById("comments");
    var url = link && link.getAttribute("data-fragment-url");
    if (!url || !list || !window.fetch || !window.DOMParser) return;
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "omit", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("load more: " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fragment = new DOMParser().parseFromString(html, "text/html");
        var first = null;
        var items = fragment.querySelectorAll("ol.comments > li.comment");
        Array.prototype.forEach.call(items, function (item) {
          // Never the same comment twice, whatever changed between two pages.
          if (document.getElementById(item.id)) return;
          var added = document.importNode(item, true);
          list.appendChild(added);
          first = first || added;
        });
        var pager = link.closest(".pager");
        var next = fragment.querySelector(".pager");
        if (next) {
          pager.parentNode.replaceChild(document.importNode(next, true), pager);
        } else {
          pager.parentNode.removeChild(pager);
        }
        var article = first && first.querySelector("article");
        if (article) {
          // Keyboard and screen reader users continue at the first new comment.
          article.setAttribute("tabindex", "-1");
          article.focus({ preventScroll: true });
        }
      })
      .catch(function () {
        window.location.assign(link.href); // the plain next page still works
      });
  });

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
