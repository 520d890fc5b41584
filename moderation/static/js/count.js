// Comment counts on the publisher's pages (article lists, teasers):
//   <span data-moderation-count data-site="demo" data-thread="KEY"></span>
//   <script src="https://SERVICE/static/js/count.js" async></script>
// One request per site (up to 100 threads each) to the counts API; each element's
// text becomes the number, or data-one / data-many with {n} replaced
// ("{n} comment", "{n} comments") when the element has them.
(function () {
  "use strict";
  var MAX_KEYS = 100; // the API's limit per request
  var script = document.currentScript ||
    document.querySelector("script[src*='count.js']");
  if (!script || !window.fetch) return;
  var service = new URL(script.src, window.location.href).origin;

  function label(element, n) {
    var template = n === 1 ? element.dataset.one : element.dataset.many;
    return template ? template.replace("{n}", String(n)) : String(n);
  }

  function fill(elements, counts) {
    elements.forEach(function (element) {
      var n = counts[element.dataset.thread];
      if (typeof n !== "number") return;
      element.textContent = label(element, n);
      element.setAttribute("data-count", String(n));
    });
  }

  function load(site, elements) {
    var keys = [];
    elements.forEach(function (element) {
      if (keys.indexOf(element.dataset.thread) < 0) keys.push(element.dataset.thread);
    });
    for (var start = 0; start < keys.length; start += MAX_KEYS) {
      var params = new URLSearchParams();
      keys.slice(start, start + MAX_KEYS).forEach(function (key) {
        params.append("thread", key);
      });
      var url = service + "/api/v1/sites/" + encodeURIComponent(site) +
        "/counts?" + params.toString();
      fetch(url, { credentials: "omit", mode: "cors" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) { if (body && body.counts) fill(elements, body.counts); })
        .catch(function () { /* counts are decoration: leave the text as it is */ });
    }
  }

  function run() {
    var bySite = {};
    var elements = document.querySelectorAll("[data-moderation-count][data-site][data-thread]");
    Array.prototype.forEach.call(elements, function (element) {
      var site = element.dataset.site;
      (bySite[site] = bySite[site] || []).push(element);
    });
    Object.keys(bySite).forEach(function (site) { load(site, bySite[site]); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
