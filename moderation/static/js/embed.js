// The publisher's one-line embed:
//   <script src="https://SERVICE/static/js/embed.js" data-site="demo"
//     data-thread="KEY" data-url="..." data-title="..." async></script>
// Optional: data-theme (light, dark, auto; unset: follow this page's own
// background), data-accent, data-text, data-muted, data-background,
// data-border (#hex), data-font, data-size, data-lang, data-sort.
//
// Puts the thread's iframe right after the script tag and sizes it from the
// iframe's own messages: a message counts only when it comes from that iframe's
// window and from the service's origin. The page may switch the theme later:
//   window.moderationEmbed.setTheme("dark")    (or "light", "auto")
// Where the browser refuses the iframe its own storage, this page keeps the
// reader's comment receipts for it (localStorage, this page's origin only).
// When the site does not allow this page's origin, says so here and in the
// console instead of leaving a broken frame.
(function () {
  "use strict";
  var MIN_HEIGHT = 150;
  var MAX_HEIGHT = 100000; // a message must not make the page arbitrarily tall
  var OPTIONAL = ["lang", "sort", "accent", "text", "muted", "background", "border",
    "font", "size"];
  var THEMES = ["light", "dark", "auto"];
  var STORE_PREFIX = "moderation:receipts:";
  var SILENCE_MS = 4000; // no word from a loaded frame this long: find out why
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

  // ---- This page's theme: the first opaque background from the embed up ----
  function parseColour(value) {
    var match = /rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)(?:[,\s/]+([\d.]+%?))?\s*\)/.exec(value || "");
    if (!match) return null;
    var alpha = match[4] === undefined ? 1 : parseFloat(match[4]) / (/%$/.test(match[4]) ? 100 : 1);
    return { r: +match[1], g: +match[2], b: +match[3], a: alpha };
  }

  function hostTheme(element) {
    for (var node = element; node && node.nodeType === 1; node = node.parentElement) {
      var colour = parseColour(window.getComputedStyle(node).backgroundColor);
      if (colour && colour.a > 0.5) {
        // Relative luminance (sRGB, roughly): dark pages are below the middle.
        var light = (0.2126 * colour.r + 0.7152 * colour.g + 0.0722 * colour.b) / 255;
        return light < 0.5 ? "dark" : "light";
      }
    }
    // Nothing painted: the canvas is the browser's, which follows color-scheme.
    var scheme = window.getComputedStyle(document.documentElement).colorScheme || "";
    if (/dark/.test(scheme) && !/light/.test(scheme)) return "dark";
    return "light";
  }

  function frameUrl(service, script, theme) {
    var data = script.dataset;
    var path = "/embed/" + encodeURIComponent(data.site) + "/" +
      encodeURIComponent(data.thread);
    var params = new URLSearchParams();
    // The iframe talks back to this page only when the site allows this origin.
    params.set("origin", window.location.origin);
    params.set("url", data.url || canonicalUrl());
    params.set("title", data.title || document.title || "");
    if (theme !== "auto") params.set("theme", theme);
    OPTIONAL.forEach(function (name) {
      if (data[name]) params.set(name, data[name]);
    });
    // A link to one comment (from a feed, a notification): open the frame there.
    var anchor = /^#comment-(\d+)$/.exec(window.location.hash);
    if (anchor) params.set("comment", anchor[1]);
    return service + path + "?" + params.toString();
  }

  // ---- Receipts kept for a frame the browser gives no storage ----
  function pageStore() {
    try { return window.localStorage; } catch (error) { return null; }
  }

  function receipts(key) {
    var store = pageStore();
    var all = {};
    if (!store) return all;
    try { all = JSON.parse(store.getItem(key) || "{}") || {}; } catch (error) { all = {}; }
    var now = Date.now();
    Object.keys(all).forEach(function (id) {
      var entry = all[id];
      if (!/^\d+$/.test(id) || !entry || typeof entry.receipt !== "string" || !(entry.keep > now)) {
        delete all[id];
      }
    });
    return all;
  }

  function keepReceipts(key, all) {
    var store = pageStore();
    if (!store) return;
    try { store.setItem(key, JSON.stringify(all)); } catch (error) { /* full: decoration */ }
  }

  function handleReceipts(frame, service, data, key) {
    var all;
    if (data.type === "moderation:want-receipts") {
      frame.contentWindow.postMessage({ type: "moderation:receipts", receipts: receipts(key) }, service);
    } else if (data.type === "moderation:keep-receipt" && data.entry && typeof data.entry === "object" &&
               /^\d+$/.test(String(data.entry.id)) && typeof data.entry.receipt === "string" &&
               data.entry.receipt.length < 400) {
      all = receipts(key);
      all[String(data.entry.id)] = {
        receipt: data.entry.receipt, until: Number(data.entry.until) || 0, keep: Number(data.entry.keep) || 0
      };
      keepReceipts(key, all);
    } else if (data.type === "moderation:forget-receipt" && /^\d+$/.test(String(data.id))) {
      all = receipts(key);
      delete all[String(data.id)];
      keepReceipts(key, all);
    }
  }

  // ---- When the frame never speaks: the origin is not allowed (or the site is unknown) ----
  function explain(frame, service, script, state) {
    if (state.heard || state.explained) return;
    var url = service + "/embed/" + encodeURIComponent(script.dataset.site) + "/" +
      encodeURIComponent(script.dataset.thread) + "/allowed?origin=" +
      encodeURIComponent(window.location.origin);
    fetch(url, { credentials: "omit", mode: "cors" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (!body || body.allowed || state.heard || state.explained) return;
        state.explained = true;
        var message = "moderation embed.js: " + body.message;
        if (window.console) window.console.error(message);
        var hint = document.createElement("p");
        hint.className = "moderation-embed-hint";
        hint.setAttribute("role", "note");
        hint.style.cssText = "border:1px solid #b3261e;color:#b3261e;background:#fff;" +
          "padding:0.75rem 1rem;border-radius:6px;font:14px/1.4 system-ui,sans-serif";
        hint.textContent = body.message;
        frame.parentNode.insertBefore(hint, frame);
        frame.style.display = "none";
      })
      .catch(function () { /* the service is out of reach: the frame says so itself */ });
  }

  function listen(frame, service, script, storeKey) {
    var state = { heard: false, explained: false };
    window.addEventListener("message", function (event) {
      if (event.source !== frame.contentWindow || event.origin !== service) return;
      var data = event.data;
      if (!data || typeof data !== "object") return;
      state.heard = true;
      if (data.type === "moderation:height" && typeof data.height === "number" &&
          isFinite(data.height)) {
        var height = Math.max(MIN_HEIGHT, Math.min(Math.ceil(data.height), MAX_HEIGHT));
        frame.style.height = height + "px";
      } else if (data.type === "moderation:scroll" && typeof data.top === "number" &&
                 isFinite(data.top)) {
        var top = frame.getBoundingClientRect().top + window.scrollY + data.top - 80;
        window.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
      } else {
        handleReceipts(frame, service, data, storeKey);
      }
    });
    // A refused frame may never fire "load": count from now as well. Asking is
    // harmless when the frame is merely slow (or lazy): an allowed origin shows
    // nothing.
    var wait = function () {
      window.setTimeout(function () { explain(frame, service, script, state); }, SILENCE_MS);
    };
    frame.addEventListener("load", wait);
    wait();
  }

  function sendTheme(entry, theme) {
    if (!entry.frame.contentWindow) return;
    entry.frame.contentWindow.postMessage({ type: "moderation:theme", theme: theme }, entry.service);
  }

  // Follow this page when it changes its own look (a dark-mode switch).
  function followHost(entry, script) {
    var last = entry.theme;
    var check = function () {
      if (entry.fixed) return;
      var now = hostTheme(script.parentNode);
      if (now !== last) {
        last = now;
        sendTheme(entry, now);
      }
    };
    if (window.MutationObserver) {
      var observer = new MutationObserver(check);
      [document.documentElement, document.body].forEach(function (node) {
        if (node) observer.observe(node, { attributes: true, attributeFilter: ["class", "style", "data-theme"] });
      });
    }
    if (window.matchMedia) {
      var query = window.matchMedia("(prefers-color-scheme: dark)");
      if (query.addEventListener) query.addEventListener("change", check);
    }
  }

  // One registry for every embed on the page (each script tag runs this file).
  var registry = window.moderationEmbed = window.moderationEmbed || {
    frames: [],
    // The page's own dark-mode switch: "light", "dark", or "auto" (the reader's
    // system setting). After this call the frames no longer follow the page.
    setTheme: function (theme) {
      if (THEMES.indexOf(theme) < 0) return;
      registry.frames.forEach(function (entry) {
        entry.fixed = true;
        sendTheme(entry, theme);
      });
    }
  };

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
  var asked = script.dataset.theme;
  var theme = THEMES.indexOf(asked) >= 0 ? asked : hostTheme(script.parentNode);
  var frame = document.createElement("iframe");
  frame.className = "moderation-thread";
  var lang = (script.dataset.lang || document.documentElement.lang || "en").slice(0, 2);
  frame.title = script.dataset.frameTitle || TITLES[lang] || TITLES.en;
  frame.src = frameUrl(service, script, theme);
  frame.setAttribute("loading", "lazy");
  frame.setAttribute("width", "100%");
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.minHeight = MIN_HEIGHT + "px";
  frame.style.colorScheme = "normal";
  var storeKey = STORE_PREFIX + service + "/" + script.dataset.site + "/" + script.dataset.thread;
  listen(frame, service, script, storeKey);
  var entry = { frame: frame, service: service, theme: theme, fixed: !!asked };
  registry.frames.push(entry);
  if (!asked) followHost(entry, script);
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
