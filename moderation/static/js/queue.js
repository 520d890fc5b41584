// The review queue's keyboard, claims, live counts and undo toast.
// Enhances the server-rendered pages: every action also works without it.
(function () {
  "use strict";

  var COUNT_REFRESH_MS = 20000;
  var queue = document.getElementById("queue");
  var itemPage = document.getElementById("item");
  var help = document.getElementById("keys-help");
  var csrf = queue ? queue.dataset.csrf : tokenFromForms();
  var current = -1;

  function tokenFromForms() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("li.item"));
  }

  function typing(target) {
    return target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function submit(form) {
    if (!form) { return; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  // Claim the focused item, giving back the one focused before.
  function claim(item, previous) {
    var body = new URLSearchParams();
    if (previous) { body.set("release", previous.dataset.id); }
    fetch(item.dataset.claim, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
      body: body
    }).then(function (response) {
      return response.json().then(function (data) {
        var note = item.querySelector(".claim-live");
        if (!note) { return; }
        if (response.status === 409 && data.by) {
          note.textContent = "Being reviewed by " + data.by;
          note.hidden = false;
          item.classList.add("claimed");
        } else {
          note.hidden = true;
          item.classList.remove("claimed");
        }
      });
    }).catch(function () { /* the claim is a courtesy; deciding still checks */ });
  }

  function focusItem(index) {
    var list = items();
    if (!list.length) { return; }
    index = Math.max(0, Math.min(list.length - 1, index));
    var previous = current >= 0 ? list[current] : null;
    if (previous) { previous.classList.remove("focused"); }
    current = index;
    var item = list[current];
    item.classList.add("focused");
    item.focus();
    item.scrollIntoView({ block: "nearest" });
    if (item !== previous) { claim(item, previous); }
  }

  function focused() {
    var list = items();
    return current >= 0 ? list[current] : null;
  }

  function scope() {
    return focused() || itemPage;
  }

  function updateSelected() {
    var shown = document.querySelector(".selected-count");
    if (shown) {
      shown.textContent = document.querySelectorAll("input.pick:checked").length;
    }
  }

  function showHelp() {
    if (help && !help.open) { help.showModal(); }
  }

  function go(url) { if (url) { window.location.assign(url); } }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    // Enter on a reject reason picks it and rejects: the select has no submit of its own.
    if (event.key === "Enter" && target.classList &&
        (target.classList.contains("reason-code"))) {
      event.preventDefault();
      submit(target.form);
      return;
    }
    if (event.key === "Escape" && typing(target)) {
      target.blur();
      var holder = target.closest("li.item");
      if (holder) { holder.focus(); }
      return;
    }
    if (typing(target) || (help && help.open)) { return; }
    var here = scope();
    var handled = true;
    switch (event.key) {
      case "j":
        if (queue) { focusItem(current + 1); } else { go(itemPage.dataset.next); }
        break;
      case "k":
        if (queue) { focusItem(current - 1); } else { go(itemPage.dataset.previous); }
        break;
      case "Enter":
      case "o":
        if (queue && focused() && target === focused()) {
          go(focused().dataset.open);
        } else if (event.key === "o" && focused()) {
          go(focused().dataset.open);
        } else { handled = false; }
        break;
      case "n":
        if (itemPage) { go(itemPage.dataset.next); } else { handled = false; }
        break;
      case "a":
        submit(here && here.querySelector("form.approve-form"));
        break;
      case "p":
        // Keep: only reported comments have the form.
        var keepForm = here && here.querySelector("form.keep-form");
        if (keepForm) { submit(keepForm); } else { handled = false; }
        break;
      case "r":
        var reason = here && here.querySelector("form.reject-form select");
        if (reason) { reason.focus(); } else { handled = false; }
        break;
      case "x":
        var box = focused() && focused().querySelector("input.pick");
        if (box) { box.checked = !box.checked; updateSelected(); }
        break;
      case "b":
        if (here && here.dataset.ban) { go(here.dataset.ban); } else { handled = false; }
        break;
      case "f":
        // Feature or unfeature: only published (or featured) comments have the form.
        var pick = here && here.querySelector("form.feature-form");
        if (pick) { submit(pick); } else { handled = false; }
        break;
      case "u":
        submit(document.querySelector("form.undo"));
        break;
      case "q":
        if (itemPage) { go(itemPage.dataset.queue); } else { handled = false; }
        break;
      case "?":
        showHelp();
        break;
      default:
        handled = false;
    }
    if (handled) { event.preventDefault(); }
  }

  function refreshCounts() {
    fetch(queue.dataset.countsUrl, {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      Object.keys(data.queues).forEach(function (name) {
        var label = data.queues[name].label;
        document.querySelectorAll('[data-count="' + name + '"]').forEach(function (el) {
          el.textContent = label;
        });
      });
      var mine = document.querySelector("h1 [data-count]");
      if (mine) {
        document.title = queue.dataset.title + " (" + mine.textContent + ") – Moderation";
      }
    }).catch(function () { /* the next refresh tries again */ });
  }

  function countDown() {
    var toast = document.querySelector("form.undo");
    if (!toast) { return; }
    var until = Date.parse(toast.dataset.until);
    var shown = toast.querySelector(".undo-seconds");
    var timer = setInterval(function () {
      var left = Math.round((until - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(timer);
        toast.remove();
      } else if (shown) {
        shown.textContent = left;
      }
    }, 1000);
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("pick")) {
      updateSelected();
    }
  });
  document.querySelectorAll("[data-help]").forEach(function (button) {
    button.addEventListener("click", showHelp);
  });
  items().forEach(function (item, index) {
    item.addEventListener("focusin", function () {
      if (current !== index) {
        var previous = current >= 0 ? items()[current] : null;
        if (previous) { previous.classList.remove("focused"); }
        current = index;
        item.classList.add("focused");
        claim(item, previous);
      }
    });
  });
  // Back from a decision made in the list: the server sent us to "#item-N", the
  // item that followed the decided one. Focus it (and claim it, as j does), so
  // the keyboard carries on there; the first item when that one has gone.
  function focusAfterDecision() {
    var match = /^#item-(\d+)$/.exec(window.location.hash);
    if (!queue || !match) { return; }
    var list = items();
    if (!list.length) { return; }
    var index = list.findIndex(function (item) { return item.dataset.id === match[1]; });
    focusItem(index >= 0 ? index : 0);
  }

  if (queue) { setInterval(refreshCounts, COUNT_REFRESH_MS); }
  focusAfterDecision();
  countDown();
}());
