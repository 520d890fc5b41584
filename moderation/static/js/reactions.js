// Inside the iframe: send a comment's "Respect" form in place, update its count
// and aria-pressed from the server's answer, and remember what this reader
// pressed.
//
// The page is cached and the same for every reader, so it cannot say whether
// this reader pressed; the ids they pressed are kept in the iframe's
// localStorage (partitioned by the publisher's site, and blocked in some
// browsers: then the buttons simply start unpressed). That memory is decoration:
// each press toggles on the server, and its answer is the truth. Without script,
// or when fetch fails, the form posts as a plain form and the thread reloads at
// the comment.
(function () {
  "use strict";
  var KEY = "moderation:respected";
  var KEEP = 500; // ids remembered, the latest kept

  function storage() {
    try {
      return window.localStorage || null;
    } catch (error) {
      return null; // storage blocked in third-party frames
    }
  }

  function pressedIds() {
    var store = storage();
    if (!store) return [];
    try {
      var ids = JSON.parse(store.getItem(KEY) || "[]");
      return Array.isArray(ids) ? ids.map(String) : [];
    } catch (error) {
      return [];
    }
  }

  function remember(id, pressed) {
    var store = storage();
    if (!store) return;
    var ids = pressedIds().filter(function (other) { return other !== id; });
    if (pressed) ids.push(id);
    try {
      store.setItem(KEY, JSON.stringify(ids.slice(-KEEP)));
    } catch (error) {
      // Full or blocked: the count is still right, only the decoration is lost.
    }
  }

  // A toggle button once script runs: its state is this reader's memory.
  function mark(root) {
    var ids = pressedIds();
    var buttons = root.querySelectorAll ? root.querySelectorAll("button.respect-button") : [];
    Array.prototype.forEach.call(buttons, function (button) {
      if (button.hasAttribute("aria-pressed")) return;
      var pressed = ids.indexOf(button.getAttribute("data-comment-id")) !== -1;
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
    });
  }

  function note(form, message) {
    var slot = form.querySelector(".respect-note");
    if (!slot) {
      slot = document.createElement("span");
      slot.className = "respect-note";
      slot.setAttribute("role", "status");
      form.appendChild(slot);
    }
    // Set after insertion, so that screen readers announce the change.
    window.setTimeout(function () { slot.textContent = message; }, 50);
  }

  mark(document);
  if ("MutationObserver" in window && document.body) {
    // frame.js appends comments ("Load more") and swaps the thread after a
    // post: mark the buttons that come in.
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        Array.prototype.forEach.call(change.addedNodes, function (node) {
          if (node.nodeType === 1) mark(node);
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }

  // In the capture phase, so that this form is ours alone: frame.js sends the
  // thread's other forms itself (and would swap the whole thread for the answer).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("respect")) return;
    if (!window.fetch || !window.URLSearchParams || !window.FormData) return;
    event.preventDefault();
    event.stopPropagation();
    var button = form.querySelector("button.respect-button");
    var counts = form.querySelectorAll(".respect-count");
    if (!button || !counts.length || button.getAttribute("aria-busy") === "true") {
      return;
    }
    button.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      credentials: "omit",
      headers: { Accept: "application/json" },
      body: new URLSearchParams(new FormData(form)),
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) throw new Error("not json");
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (answer) {
        button.removeAttribute("aria-busy");
        if (!answer.ok) {
          note(form, answer.body.message || "");
          return;
        }
        var id = String(answer.body.id);
        Array.prototype.forEach.call(counts, function (count) {
          count.textContent = String(answer.body.count);
        });
        button.setAttribute("aria-pressed", answer.body.pressed ? "true" : "false");
        remember(id, Boolean(answer.body.pressed));
        var old = form.querySelector(".respect-note");
        if (old) old.textContent = "";
      })
      .catch(function () {
        button.removeAttribute("aria-busy");
        form.submit(); // the plain form still works
      });
  }, true);
})();
