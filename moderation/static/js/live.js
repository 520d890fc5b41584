// Inside the iframe: while the reader has the thread open, ask whether comments
// were published since this page was rendered, and offer "3 new comments — show"
// at the top of the list (#live, an aria-live="polite" region).
//
// The page is cached alike for every reader, so it names the revision and the
// published count it shows (data-since, data-seen); the server answers once the
// revision moves or its wait ends, or at once with `retry` (seconds) when too
// many readers already wait: then this is plain polling. The text comes from the
// server in the page's language (its plural forms are the catalogue's). Nothing
// runs while the document is hidden; errors back off up to five minutes.
(function () {
  "use strict";
  var region = document.getElementById("live");
  if (!region || !window.fetch) return;
  var url = region.getAttribute("data-live-url") || "";
  var showUrl = region.getAttribute("data-show-url") || "";
  var since = region.getAttribute("data-since") || "";
  var seen = region.getAttribute("data-seen") || "";
  if (!url || !showUrl || !/^\d+$/.test(since) || !/^\d+$/.test(seen)) return;
  since = parseInt(since, 10);

  var SOONEST_MS = 1000; // never two questions closer than this
  var FIRST_BACKOFF_MS = 2000;
  var LAST_BACKOFF_MS = 300000;
  var backoff = 0;
  var timer = null;
  var controller = null;
  var asking = false;
  var stopped = false;
  var button = null;

  function spread(ms) {
    // A little randomness, so that the readers of one busy thread do not all
    // come back in the same second.
    return Math.max(SOONEST_MS, ms) * (1 + Math.random() * 0.25);
  }

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, ms);
  }

  function announce(count, text) {
    if (!count || !text) {
      if (button) region.removeChild(button);
      button = null;
      return;
    }
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "live-show";
      button.addEventListener("click", function () {
        button.disabled = true;
        // The thread again, newest first, with the frame's origin, language
        // and theme (the server wrote them into the URL).
        window.location.assign(showUrl);
      });
      region.appendChild(button);
    }
    if (button.textContent !== text) button.textContent = text;
  }

  function ask() {
    timer = null;
    if (stopped || asking || document.visibilityState === "hidden") return;
    asking = true;
    controller = window.AbortController ? new window.AbortController() : null;
    var query = (url.indexOf("?") < 0 ? "?" : "&") + "since=" + since + "&seen=" + seen;
    fetch(url + query, {
      credentials: "omit",
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) {
        if (response.status === 400 || response.status === 404) {
          stopped = true; // the thread is gone, or this page is not one we made
        }
        if (!response.ok) {
          var error = new Error("live: " + response.status);
          error.retryAfter = parseInt(response.headers.get("Retry-After") || "", 10);
          throw error;
        }
        return response.json();
      })
      .then(function (answer) {
        asking = false;
        backoff = 0;
        if (typeof answer.revision === "number" && answer.revision > since) {
          since = answer.revision;
        }
        announce(answer.new > 0 ? answer.new : 0, String(answer.text || ""));
        schedule(spread(1000 * (Number(answer.retry) || 0)));
      })
      .catch(function (error) {
        asking = false;
        if (stopped) return;
        if (error && error.name === "AbortError") {
          // Paused; shown again before the abort landed: carry on.
          if (document.visibilityState !== "hidden" && !timer) schedule(spread(0));
          return;
        }
        backoff = backoff ? Math.min(backoff * 2, LAST_BACKOFF_MS) : FIRST_BACKOFF_MS;
        var asked = error && error.retryAfter > 0 ? 1000 * error.retryAfter : 0;
        schedule(spread(Math.max(backoff, asked)));
      });
  }

  function pause() {
    window.clearTimeout(timer);
    timer = null;
    if (controller) controller.abort(); // its wait would be wasted on a hidden tab
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      pause();
    } else if (!timer && !asking) {
      ask(); // back in view: one question now, then as the answers say
    }
  });

  function start() {
    if (document.visibilityState !== "hidden") ask();
  }
  if (document.readyState === "complete") {
    start();
  } else {
    window.addEventListener("load", start);
  }
})();
