// The publisher's one-line embed:
//   <script src="https://SERVICE/static/js/embed.js" data-site="demo"
//     data-thread="KEY" data-url="..." data-title="..." async></script>
// Puts the thread's iframe right after the script tag and sizes it from the
// iframe's own messages: a message counts only when it comes from that iframe's
// window and from the service's origin. Nothing is stored in the page or sent
// anywhere else; the iframe itself needs no cookie.
(function () {
  "use strict";
  var MIN_HEIGHT = 150;
  var MAX_HEIGHT = 100000; // a message must not make the page arbitrarily tall
  var OPTIONAL = ["theme", "lang", "sort"];
  // The iframe's accessible name, in the page's language when we have it.
  var TITLES = { en: "Reader comments", fr: "Commentaires des lecteurs" };

  function thisScript() {
    if (document.currentScript) return document.currentScript;
    // Very old browsers: the first embed script not yet handled.
    var scripts = document.querySelectorAll("script[data-thread][src*='embed.js']");
    for (var i = 0; i < scripts.length; i += 1) {
      if (!scripts[i].hasAttribute("data-moderation-embedded")) return scripts[i];
    }
    return null;
  }

  function canonicalUrl() {
    var link = document.querySelector("link[rel='canonical'][href]");
    if (link) return link.href;
    return window.location.origin + window.location.pathname + window.location.search;
  }

  function frameUrl(service, script) {
    var data = script.dataset;
    var path = "/embed/" + encodeURIComponent(data.site) + "/" +
      encodeURIComponent(data.thread);
    var params = new URLSearchParams();
    // The iframe talks back to this page only when the site allows this origin.
    params.set("origin", window.location.origin);
    params.set("url", data.url || canonicalUrl());
    params.set("title", data.title || document.title || "");
    OPTIONAL.forEach(function (name) {
      if (data[name]) params.set(name, data[name]);
    });
    // A link to one comment (from a feed, a notification): open the frame there.
    var anchor = /^#comment-(\d+)$/.exec(window.location.hash);
    if (anchor) params.set("comment", anchor[1]);
    return service + path + "?" + params.toString();
  }

  function listen(frame, service) {
    window.addEventListener("message", function (event) {
      if (event.source !== frame.contentWindow || event.origin !== service) return;
      var data = event.data;
      if (!data || typeof data !== "object") return;
      if (data.type === "moderation:height" && typeof data.height === "number" &&
          isFinite(data.height)) {
        var height = Math.max(MIN_HEIGHT, Math.min(Math.ceil(data.height), MAX_HEIGHT));
        frame.style.height = height + "px";
      } else if (data.type === "moderation:scroll" && typeof data.top === "number" &&
                 isFinite(data.top)) {
        var top = frame.getBoundingClientRect().top + window.scrollY + data.top - 80;
        window.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
      }
    });
  }

  var script = thisScript();
  if (!script) return;
  script.setAttribute("data-moderation-embedded", "");
  if (!script.dataset.site || !script.dataset.thread) {
    if (window.console) {
      window.console.error("moderation embed.js: data-site and data-thread are required");
    }
    return;
  }
  // The service is wherever this script came from.
  var service = new URL(script.src, window.location.href).origin;
  var frame = document.createElement("iframe");
  frame.className = "moderation-thread";
  var lang = (script.dataset.lang || document.documentElement.lang || "en").slice(0, 2);
  frame.title = script.dataset.frameTitle || TITLES[lang] || TITLES.en;
  frame.src = frameUrl(service, script);
  frame.setAttribute("loading", "lazy");
  frame.setAttribute("width", "100%");
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.minHeight = MIN_HEIGHT + "px";
  listen(frame, service);
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
