// Inside the iframe: remember the receipts of this reader's comments, offer
// "Edit" and "Delete" on them while the site's edit window lasts, and follow a
// permalink (?comment=<id>) by scrolling the parent page to that comment.
//
// Receipts live in the iframe's localStorage, keyed by comment id. Browsers
// partition that storage by top-level site, so a receipt is only offered back
// on the publisher's site where it was earned; when storage is blocked the
// "Edit or delete" link in the post's result still works without it.
(function () {
  "use strict";
  var PREFIX = "moderation:receipt:";
  var main = document.querySelector("main[data-parent-origin]");
  if (!main) return;
  var parentOrigin = main.getAttribute("data-parent-origin") || "";
  var editUrl = main.getAttribute("data-edit-url") || "";

  function storage() {
    try {
      var store = window.localStorage;
      return store || null;
    } catch (error) {
      return null; // storage blocked in third-party frames
    }
  }

  function readAll(store) {
    var found = {};
    var now = Date.now();
    var stale = [];
    for (var i = 0; i < store.length; i += 1) {
      var name = store.key(i);
      if (!name || name.indexOf(PREFIX) !== 0) continue;
      var entry = null;
      try {
        entry = JSON.parse(store.getItem(name));
      } catch (error) {
        entry = null;
      }
      if (!entry || typeof entry.receipt !== "string" || !(entry.until > now)) {
        stale.push(name);
      } else {
        found[name.slice(PREFIX.length)] = entry;
      }
    }
    stale.forEach(function (name) { store.removeItem(name); });
    return found;
  }

  // The receipt just issued by a post (the server only adds it while the
  // comment may still be changed).
  function remember(store) {
    var result = document.getElementById("result");
    if (!result) return;
    var receipt = result.getAttribute("data-receipt");
    var id = result.getAttribute("data-comment-id");
    var until = Date.parse(result.getAttribute("data-edit-until") || "");
    if (receipt && id && /^\d+$/.test(id) && until > Date.now()) {
      try {
        store.setItem(PREFIX + id, JSON.stringify({ receipt: receipt, until: until }));
      } catch (error) {
        // full or blocked: the result's own link still works
      }
    }
    var status = result.getAttribute("data-comment-status");
    if (id && status === "deleted") store.removeItem(PREFIX + id);
  }

  function editHref(id, receipt) {
    var url = new URL(editUrl, window.location.href);
    url.pathname = url.pathname.replace(/\/comments\/0\/edit$/, "/comments/" + id + "/edit");
    url.searchParams.set("receipt", receipt);
    return url;
  }

  function deleteAction(id) {
    var url = new URL(editUrl, window.location.href);
    url.pathname = url.pathname.replace(/\/comments\/0\/edit$/, "/comments/" + id + "/delete");
    url.searchParams.delete("origin");
    return url.toString();
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
    form.action = deleteAction(id);
    form.className = "confirm-delete";
    hidden(form, "receipt", receipt);
    hidden(form, "origin", parentOrigin);
    hidden(form, "confirm", "yes");
    var question = document.createElement("span");
    question.textContent = main.getAttribute("data-confirm-text") || "Delete this comment?";
    var yes = document.createElement("button");
    yes.type = "submit";
    yes.className = "danger";
    yes.textContent = main.getAttribute("data-yes-text") || "Yes, delete it";
    var no = document.createElement("button");
    no.type = "button";
    no.className = "link";
    no.textContent = main.getAttribute("data-cancel-text") || "Cancel";
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
    if (!item || !editUrl) return;
    var actions = item.querySelector(":scope > article .actions");
    if (!actions || actions.querySelector(".own-actions")) return;
    var own = document.createElement("span");
    own.className = "own-actions";
    var edit = document.createElement("a");
    edit.className = "edit";
    edit.href = editHref(id, entry.receipt).toString();
    edit.textContent = main.getAttribute("data-edit-text") || "Edit";
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link delete";
    remove.textContent = main.getAttribute("data-delete-text") || "Delete";
    remove.addEventListener("click", function () {
      confirmDelete(actions, id, entry.receipt, remove);
    });
    own.appendChild(edit);
    own.appendChild(remove);
    actions.appendChild(own);
    // Gone when the window closes (the server refuses after that anyway).
    window.setTimeout(function () { own.remove(); }, Math.max(0, entry.until - Date.now()));
  }

  var store = storage();
  if (store) {
    remember(store);
    var receipts = readAll(store);
    Object.keys(receipts).forEach(function (id) { offer(id, receipts[id]); });
  }

  // A permalink: highlight the comment and bring it into view on the parent page.
  var wanted = new URLSearchParams(window.location.search).get("comment");
  if (wanted && /^\d+$/.test(wanted)) {
    var target = document.getElementById("comment-" + wanted);
    if (target) {
      target.classList.add("is-target");
      var scrollParent = function () {
        if (!parentOrigin || window.parent === window) {
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
