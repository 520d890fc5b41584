// Inside the iframe: remember the receipts of this reader's comments, offer
// "Edit" and "Delete" on them while the site's edit window lasts, show their
// comments that the thread does not (awaiting review, not published) where they
// would appear, and follow a permalink (?comment=<id>) by scrolling the parent
// page to that comment.
//
// Where receipts are kept (docs/embedding.md, "Your own comments"):
// - the iframe's own localStorage, which current Chrome, Edge, Firefox and
//   Safari partition by top-level site, so a receipt is only offered back on the
//   publisher's site where it was earned;
// - where a browser refuses storage to a third-party frame, the publisher page's
//   own localStorage, through embed.js and postMessage (both sides check the
//   other's origin and window);
// - with neither (a plain <iframe> snippet in such a browser), the "Edit or
//   delete" link in the post's result works until the page is left.
// Nothing here needs a cookie.
(function () {
  "use strict";
  var PREFIX = "moderation:receipt:";
  var KEEP_MS = 7 * 24 * 3600 * 1000; // receipts are valid for 7 days
  var main0 = document.querySelector("main[data-parent-origin]");
  if (!main0) return;
  var parentOrigin = main0.getAttribute("data-parent-origin") || "";
  var framed = parentOrigin && window.parent !== window;
  var fromParent = {}; // receipts the parent page keeps for us (fallback)

  function main() { return document.querySelector("main[data-parent-origin]"); }
  function attr(name, fallback) { return (main() && main().getAttribute(name)) || fallback; }

  function storage() {
    try {
      var store = window.localStorage;
      var probe = PREFIX + "probe";
      store.setItem(probe, "1");
      store.removeItem(probe);
      return store;
    } catch (error) {
      return null; // storage blocked in third-party frames
    }
  }
  var store = storage();

  function valid(entry, now) {
    return entry && typeof entry.receipt === "string" && /^\d+$/.test(String(entry.id)) &&
      entry.keep > now;
  }

  function readAll() {
    var found = {};
    var now = Date.now();
    if (store) {
      var stale = [];
      for (var i = 0; i < store.length; i += 1) {
        var name = store.key(i);
        if (!name || name.indexOf(PREFIX) !== 0 || name === PREFIX + "probe") continue;
        var entry = null;
        try {
          entry = JSON.parse(store.getItem(name));
        } catch (error) {
          entry = null;
        }
        if (entry) {
          entry.id = name.slice(PREFIX.length);
          // Entries from before "keep": an edit deadline only.
          if (!entry.keep && entry.until) entry.keep = entry.until;
        }
        if (!valid(entry, now)) stale.push(name);
        else found[entry.id] = entry;
      }
      stale.forEach(function (name) { store.removeItem(name); });
    }
    Object.keys(fromParent).forEach(function (id) {
      if (!found[id] && valid(fromParent[id], now)) found[id] = fromParent[id];
    });
    return found;
  }

  function save(entry) {
    if (store) {
      try {
        store.setItem(PREFIX + entry.id, JSON.stringify(entry));
        return;
      } catch (error) {
        // full or refused: the parent keeps it, if there is one
      }
    }
    fromParent[entry.id] = entry;
    if (framed) window.parent.postMessage({ type: "moderation:keep-receipt", entry: entry }, parentOrigin);
  }

  function forget(id) {
    if (store) store.removeItem(PREFIX + id);
    delete fromParent[id];
    if (framed && !store) window.parent.postMessage({ type: "moderation:forget-receipt", id: id }, parentOrigin);
  }

  // The receipt just issued by a post (or the state an edit left the comment in).
  function remember() {
    var result = document.getElementById("result");
    if (!result) return;
    var id = result.getAttribute("data-comment-id");
    var status = result.getAttribute("data-comment-status");
    if (!id || !/^\d+$/.test(id)) return;
    if (status === "deleted") {
      forget(id);
      return;
    }
    var receipt = result.getAttribute("data-receipt");
    if (!receipt) return;
    var until = Date.parse(result.getAttribute("data-edit-until") || "") || 0;
    save({ id: id, receipt: receipt, until: until, keep: Date.now() + KEEP_MS });
  }

  function commentUrl(id, action) {
    var url = new URL(attr("data-edit-url", ""), window.location.href);
    url.pathname = url.pathname.replace(/\/comments\/0\/edit$/, "/comments/" + id + "/" + action);
    return url;
  }

  function hidden(form, name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }

  // "Delete" asks first, in place: dialogs are blocked in many cross-site frames.
  function confirmDelete(actions, id, receipt, opener) {
    var form = document.createElement("form");
    form.method = "post";
    var action = commentUrl(id, "delete");
    action.searchParams.delete("origin");
    form.action = action.toString();
    form.className = "confirm-delete";
    hidden(form, "receipt", receipt);
    hidden(form, "origin", parentOrigin);
    hidden(form, "confirm", "yes");
    var question = document.createElement("span");
    question.textContent = attr("data-confirm-text", "Delete this comment?");
    var yes = document.createElement("button");
    yes.type = "submit";
    yes.className = "danger";
    yes.textContent = attr("data-yes-text", "Yes, delete it");
    var no = document.createElement("button");
    no.type = "button";
    no.className = "link";
    no.textContent = attr("data-cancel-text", "Cancel");
    no.addEventListener("click", function () {
      form.remove();
      opener.hidden = false;
      opener.focus();
    });
    form.appendChild(question);
    form.appendChild(yes);
    form.appendChild(no);
    opener.hidden = true;
    actions.appendChild(form);
    yes.focus();
  }

  function offer(id, entry) {
    var item = document.getElementById("comment-" + id);
    if (!item || !attr("data-edit-url", "") || !(entry.until > Date.now())) return;
    var actions = item.querySelector(":scope > article .actions");
    if (!actions || actions.querySelector(".own-actions")) return;
    var own = document.createElement("span");
    own.className = "own-actions";
    var edit = document.createElement("a");
    edit.className = "edit";
    var href = commentUrl(id, "edit");
    href.searchParams.set("receipt", entry.receipt);
    edit.href = href.toString();
    edit.textContent = attr("data-edit-text", "Edit");
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link delete";
    remove.textContent = attr("data-delete-text", "Delete");
    remove.addEventListener("click", function () {
      confirmDelete(actions, id, entry.receipt, remove);
    });
    own.appendChild(edit);
    own.appendChild(remove);
    actions.appendChild(own);
    // Gone when the window closes (the server refuses after that anyway).
    window.setTimeout(function () { own.remove(); }, Math.max(0, entry.until - Date.now()));
  }

  // The reader's comments this page does not show: ask the server (by receipt,
  // never by anything else) and put each where it would appear.
  function showMine(receipts) {
    var list = document.getElementById("comments");
    var url = attr("data-mine-url", "");
    var wanted = Object.keys(receipts).filter(function (id) {
      return !document.getElementById("comment-" + id) && !document.getElementById("own-" + id);
    });
    if (!list || !url || !wanted.length || !window.fetch) return;
    var target = new URL(url, window.location.href);
    wanted.slice(0, 20).forEach(function (id) { target.searchParams.append("receipt", receipts[id].receipt); });
    fetch(target.toString(), { credentials: "omit", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html) return;
        var page = new DOMParser().parseFromString(html, "text/html");
        Array.prototype.forEach.call(page.querySelectorAll("li.own-comment-item"), function (item) {
          if (document.getElementById(item.id)) return;
          var added = document.importNode(item, true);
          var parent = document.getElementById("comment-" + item.getAttribute("data-parent-id"));
          if (parent) {
            var replies = parent.querySelector(":scope > ol.replies");
            if (!replies) {
              replies = document.createElement("ol");
              replies.className = "replies";
              parent.appendChild(replies);
            }
            replies.appendChild(added);
          } else if (!item.getAttribute("data-parent-id")) {
            list.insertBefore(added, list.firstChild);
          } else {
            return; // its conversation is on another page
          }
          var empty = document.querySelector(".thread-comments .empty");
          if (empty) empty.hidden = true;
          if (item.getAttribute("data-status") === "rejected") {
            // Told once: the outcome, then the receipt is no longer followed.
            forget(item.getAttribute("data-comment-id"));
          }
        });
      })
      .catch(function () { /* decoration: the thread is complete without it */ });
  }

  function refresh() {
    remember();
    var receipts = readAll();
    Object.keys(receipts).forEach(function (id) { offer(id, receipts[id]); });
    showMine(receipts);
  }

  // The parent page's copy (embed.js), where this frame may not store its own.
  if (framed && !store) {
    window.addEventListener("message", function (event) {
      if (event.source !== window.parent || event.origin !== parentOrigin) return;
      var data = event.data;
      if (!data || typeof data !== "object" || data.type !== "moderation:receipts" ||
          !data.receipts || typeof data.receipts !== "object") return;
      var now = Date.now();
      Object.keys(data.receipts).forEach(function (id) {
        var entry = data.receipts[id];
        if (entry && typeof entry === "object" && /^\d+$/.test(id)) {
          entry = { id: id, receipt: String(entry.receipt), until: Number(entry.until) || 0,
                    keep: Number(entry.keep) || 0 };
          if (valid(entry, now)) fromParent[id] = entry;
        }
      });
      refresh();
    });
    window.parent.postMessage({ type: "moderation:want-receipts" }, parentOrigin);
  }

  refresh();
  document.addEventListener("moderation:updated", refresh);

  // A permalink: highlight the comment and bring it into view on the parent page.
  var wanted = new URLSearchParams(window.location.search).get("comment");
  if (wanted && /^\d+$/.test(wanted)) {
    var target = document.getElementById("comment-" + wanted);
    if (target) {
      target.classList.add("is-target");
      var scrollParent = function () {
        if (!framed) {
          target.scrollIntoView({ block: "start" });
          return;
        }
        var top = target.getBoundingClientRect().top + window.scrollY;
        window.parent.postMessage({ type: "moderation:scroll", top: top }, parentOrigin);
      };
      // After layout and fonts, once the parent has had our height.
      if (document.readyState === "complete") {
        window.setTimeout(scrollParent, 50);
      } else {
        window.addEventListener("load", function () { window.setTimeout(scrollParent, 50); });
      }
    }
  }
})();
