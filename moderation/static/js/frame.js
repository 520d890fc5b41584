// Inside the iframe: size the frame, keep the reader in the thread.
//
// - Tells the embedding page our height, and only that page: the server names
//   the parent's origin only when the site allows it; without it we post
//   nothing (never postMessage(..., "*")).
// - Reply, Edit and Report open under their comment; posting, editing and
//   reporting are sent with fetch and the answer replaces the thread in place
//   (or shows its refusal beside the form, the reader's text kept). Every link
//   and form still works without script: this only enhances them.
// - "Load more" appends the next page; the page's theme follows the host page
//   when it asks (moderation:theme).
// Other scripts (receipts.js, live.js) hear "moderation:updated" on document
// whenever comments were added or the thread was replaced.
(function () {
  "use strict";
  var main = document.querySelector("main[data-parent-origin]");
  var parentOrigin = main ? main.getAttribute("data-parent-origin") : "";
  var framed = parentOrigin && window.parent !== window;
  var lastHeight = 0;
  var panels = 0;

  function text(name, fallback) {
    var current = document.querySelector("main[data-parent-origin]");
    return (current && current.getAttribute(name)) || fallback;
  }

  function report() {
    if (!framed) return;
    // The content's own height: scrollHeight never drops below the iframe's
    // viewport, so a frame measured that way could grow but never shrink.
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === lastHeight) return;
    lastHeight = height;
    window.parent.postMessage({ type: "moderation:height", height: height }, parentOrigin);
  }

  // Bring an element of the frame into view on the parent page (or in the frame
  // itself when it stands alone).
  function reveal(element) {
    if (!element) return;
    if (!framed) {
      element.scrollIntoView({ block: "nearest" });
      return;
    }
    report(); // the parent must know our height before it scrolls to a point in us
    var top = element.getBoundingClientRect().top + window.scrollY;
    window.parent.postMessage({ type: "moderation:scroll", top: top }, parentOrigin);
  }

  function updated() {
    var event;
    try {
      event = new CustomEvent("moderation:updated");
    } catch (error) {
      event = document.createEvent("CustomEvent");
      event.initCustomEvent("moderation:updated", false, false, null);
    }
    document.dispatchEvent(event);
  }

  if ("ResizeObserver" in window) {
    new ResizeObserver(report).observe(document.documentElement);
  }
  window.addEventListener("load", report);
  report();

  // ---- The host page's theme (embed.js sends it; a page may switch later) ----
  var COLOUR = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
  var PROPERTIES = {
    accent: "--mod-accent", text: "--mod-text", muted: "--mod-muted",
    background: "--mod-bg", border: "--mod-border"
  };
  function applyTheme(data) {
    var body = document.body;
    if (data.theme === "light" || data.theme === "dark" || data.theme === "auto") {
      body.classList.remove("theme-light", "theme-dark", "theme-auto");
      body.classList.add("theme-" + data.theme);
    }
    Object.keys(PROPERTIES).forEach(function (name) {
      var value = data[name];
      if (typeof value === "string" && COLOUR.test(value)) {
        body.style.setProperty(PROPERTIES[name], value, "important");
      }
    });
  }
  window.addEventListener("message", function (event) {
    if (!framed || event.source !== window.parent || event.origin !== parentOrigin) return;
    var data = event.data;
    if (data && typeof data === "object" && data.type === "moderation:theme") applyTheme(data);
  });

  // ---- Load more ----
  // The link opens the next page inside the frame without script; with it, fetch
  // only that page's comments, append them, and keep the reader where they were.
  function loadMore(link, url) {
    var list = document.getElementById("comments");
    if (!list) return false;
    if (link.getAttribute("aria-busy") === "true") return true;
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
        updated(); // receipts.js offers Edit/Delete on the reader's own comments
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
    return true;
  }

  // ---- Inline panels: reply, edit, report under their comment ----
  function closePanel(panel, focusOpener) {
    var opener = panel.openerLink;
    panel.parentNode.removeChild(panel);
    if (opener) {
      opener.setAttribute("aria-expanded", "false");
      if (focusOpener) opener.focus();
    }
  }

  function panelFor(item, opener, kind) {
    var open = item.querySelector(":scope > .inline-panel");
    if (open) {
      var same = open.getAttribute("data-kind") === kind;
      closePanel(open, false);
      if (same) return null; // a second press closes it
    }
    var panel = document.createElement("div");
    panel.className = "inline-panel";
    panel.setAttribute("data-kind", kind);
    panel.openerLink = opener;
    var article = item.querySelector(":scope > article");
    article.parentNode.insertBefore(panel, article.nextSibling);
    opener.setAttribute("aria-expanded", "true");
    return panel;
  }

  function cancelButton(panel) {
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "link cancel-panel";
    cancel.textContent = text("data-cancel-text", "Cancel");
    cancel.addEventListener("click", function () { closePanel(panel, true); });
    return cancel;
  }

  // A form copied into a panel gets ids of its own (and its labels follow), so
  // that no id is on the page twice.
  function prefixIds(form, prefix) {
    Array.prototype.forEach.call(form.querySelectorAll("[id]"), function (node) {
      node.id = prefix + node.id;
    });
    Array.prototype.forEach.call(form.querySelectorAll("label[for]"), function (node) {
      node.setAttribute("for", prefix + node.getAttribute("for"));
    });
    ["aria-describedby", "aria-controls"].forEach(function (name) {
      Array.prototype.forEach.call(form.querySelectorAll("[" + name + "]"), function (node) {
        node.setAttribute(name, node.getAttribute(name).split(/\s+/).filter(Boolean).map(function (ref) {
          return prefix + ref;
        }).join(" "));
      });
    });
  }

  // The top form, copied under the comment with its own ids and parent_id.
  function openReply(link) {
    var item = link.closest("li.comment");
    var source = document.querySelector("#leave-comment form.comment-form");
    var id = link.getAttribute("data-comment-id");
    if (!item || !source || !id) return false;
    var panel = panelFor(item, link, "reply");
    if (!panel) return true;
    panels += 1;
    var prefix = "r" + panels + "-";
    var form = source.cloneNode(true);
    // Not the top form's state: its errors, its reply line, its nudge answer.
    Array.prototype.forEach.call(form.querySelectorAll(".replying, .form-error, .error, input[name=nudge_ack]"), function (node) {
      node.parentNode.removeChild(node);
    });
    prefixIds(form, prefix);
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (node) {
      node.removeAttribute("aria-invalid");
    });
    var old = form.querySelector("input[name=parent_id]");
    if (old) old.parentNode.removeChild(old);
    var parent = document.createElement("input");
    parent.type = "hidden";
    parent.name = "parent_id";
    parent.value = id;
    form.insertBefore(parent, form.firstChild);
    var body = form.querySelector("textarea[name=body]");
    if (body) { body.value = ""; body.rows = 3; }
    var preview = form.querySelector(".preview");
    if (preview) { preview.hidden = true; preview.innerHTML = ""; }
    // The name and email the reader typed above, kept.
    ["handle", "email"].forEach(function (name) {
      var from = source.querySelector("[name=" + name + "]");
      var to = form.querySelector("[name=" + name + "]");
      if (from && to) to.value = from.value;
    });
    var note = document.createElement("p");
    note.className = "replying";
    note.textContent = link.getAttribute("data-replying-text") ||
      ("Replying to " + (link.getAttribute("data-handle") || "") + ".");
    note.appendChild(document.createTextNode(" "));
    note.appendChild(cancelButton(panel));
    form.insertBefore(note, parent.nextSibling);
    panel.id = "reply-form";
    panel.appendChild(form);
    enhanceForm(form);
    reveal(panel);
    (body || form).focus({ preventScroll: true });
    return true;
  }

  // Edit and Report: their own pages' forms, fetched and shown under the comment.
  function openFetched(link, kind) {
    var item = link.closest("li.comment");
    if (!item) return false;
    var panel = panelFor(item, link, kind);
    if (!panel) return true;
    panel.setAttribute("aria-busy", "true");
    fetch(link.href, { credentials: "omit", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var form = page.querySelector("main form");
        panel.removeAttribute("aria-busy");
        if (!form) {
          var message = page.querySelector("#result, h1");
          showMessage(panel, message ? message.textContent : text("data-failed-text", "Error"), true);
          panel.appendChild(cancelButton(panel));
          return;
        }
        var heading = page.querySelector("main h1, main h2");
        if (heading) {
          var title = document.createElement("p");
          title.className = "panel-title";
          title.textContent = heading.textContent.trim();
          panel.appendChild(title);
        }
        var added = document.importNode(form, true);
        panels += 1;
        prefixIds(added, "p" + panels + "-");
        // The page's "Back to the comments" links are the panel's Cancel here.
        Array.prototype.forEach.call(added.querySelectorAll("a.back, a[href*='#comment-']"), function (back) {
          back.parentNode.removeChild(back);
        });
        panel.appendChild(added);
        var actions = added.querySelector("button[type=submit]");
        (actions ? actions.parentNode : added).appendChild(cancelButton(panel));
        enhanceForm(added);
        reveal(panel);
        var first = added.querySelector("textarea, input:not([type=hidden]), select, button");
        if (first) first.focus({ preventScroll: true });
      })
      .catch(function () {
        closePanel(panel, false);
        window.location.assign(link.href);
      });
    return true;
  }

  // ---- Sending forms in place ----
  function showMessage(container, message, isError) {
    var box = container.querySelector(":scope > .panel-message");
    if (!box) {
      box = document.createElement("p");
      box.className = "panel-message";
      box.setAttribute("role", isError ? "alert" : "status");
      container.insertBefore(box, container.firstChild);
    }
    box.classList.toggle("error", !!isError);
    box.textContent = message;
    box.setAttribute("tabindex", "-1");
    box.focus({ preventScroll: true });
    reveal(box);
  }

  function replaceThread(page, note) {
    var fresh = page.querySelector("main[data-parent-origin]");
    var current = document.querySelector("main[data-parent-origin]");
    if (!fresh || !current) return false;
    current.parentNode.replaceChild(document.importNode(fresh, true), current);
    if (note) {
      var result = document.getElementById("result");
      if (result) {
        result.textContent = note.text;
        result.className = "result result-" + note.status;
      }
    }
    settle();
    updated();
    return true;
  }

  function send(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    var button = form.querySelector("button[type=submit]");
    form.setAttribute("aria-busy", "true");
    if (button) button.disabled = true;
    var done = function () {
      form.removeAttribute("aria-busy");
      if (button) button.disabled = false;
    };
    fetch(form.action, {
      method: "POST", body: data, credentials: "omit", headers: { Accept: "text/html" }
    })
      .then(function (response) {
        return response.text().then(function (html) { return { response: response, html: html }; });
      })
      .then(function (answer) {
        done();
        var page = new DOMParser().parseFromString(answer.html, "text/html");
        var fresh = page.querySelector("main[data-parent-origin]");
        if (fresh && fresh.querySelector("#comments-heading")) {
          // The thread itself (a post, or the form again with what to fix).
          replaceThread(page, null);
          return;
        }
        var result = page.querySelector("#result");
        var status = result && result.getAttribute("data-comment-status");
        if (answer.response.ok && status) {
          // An edit or a delete went through: show the thread as it is now.
          var note = { text: result.textContent.trim(), status: status === "deleted" ? "published" : status };
          // The reader's own view (by receipt): never a shared page cached
          // before the change, and it opens at the edited comment.
          var again = new URL(window.location.href);
          var receipt = form.querySelector("input[name=receipt]");
          if (receipt) again.searchParams.set("receipt", receipt.value);
          again.searchParams.delete("comment");
          again.searchParams.delete("after");
          return fetch(again.toString(), { credentials: "omit", headers: { Accept: "text/html" } })
            .then(function (response) { return response.text(); })
            .then(function (html) {
              replaceThread(new DOMParser().parseFromString(html, "text/html"), note);
            });
        }
        var container = form.closest(".inline-panel") || form;
        var message = result ? result.textContent.trim() : "";
        var newForm = page.querySelector("main form");
        if (answer.response.ok && !newForm) {
          // Done (a report was sent): say so where the form was.
          while (container.firstChild && container !== form) container.removeChild(container.firstChild);
          showMessage(container, message, false);
          if (container !== form) container.appendChild(cancelButton(container));
          return;
        }
        // Refused (too fast, busy, expired ...): the text stays as typed.
        var fields = page.querySelectorAll(".error[id]");
        var detail = Array.prototype.map.call(fields, function (node) { return node.textContent.trim(); });
        showMessage(container, [message].concat(detail).filter(Boolean).join(" "), true);
        var token = page.querySelector("input[name=token]");
        var mine = form.querySelector("input[name=token]");
        if (token && mine) mine.value = token.value; // a fresh token, if one came
      })
      .catch(function () {
        done();
        showMessage(form.closest(".inline-panel") || form, text("data-failed-text", "That did not work."), true);
      });
  }

  function enhanceForm(form) {
    var preview = form.querySelector(".preview-button");
    if (preview && form.getAttribute("data-preview-url")) preview.hidden = false;
  }

  function togglePreview(button) {
    var form = button.closest("form");
    var target = document.getElementById(button.getAttribute("aria-controls"));
    var body = form && form.querySelector("textarea[name=body]");
    if (!target || !body) return;
    if (!target.hidden) {
      target.hidden = true;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    var data = new FormData();
    data.append("body", body.value);
    fetch(form.getAttribute("data-preview-url"), { method: "POST", body: data, credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw new Error("preview: " + response.status);
        return response.text();
      })
      .then(function (html) {
        // The server's rendering, sanitised as a published comment is.
        target.innerHTML = html;
        target.hidden = false;
        button.setAttribute("aria-expanded", "true");
      })
      .catch(function () {
        target.textContent = text("data-failed-text", "That did not work.");
        target.hidden = false;
      });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target || event.defaultPrevented || event.button > 0 ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (!window.fetch || !window.DOMParser) return;
    var link = target.closest("a");
    var button = target.closest("button");
    var handled = false;
    if (button && button.classList.contains("preview-button")) {
      togglePreview(button);
      handled = true;
    } else if (link && link.classList.contains("load-more") && link.getAttribute("data-fragment-url")) {
      handled = loadMore(link, link.getAttribute("data-fragment-url"));
    } else if (link && link.classList.contains("reply")) {
      handled = openReply(link);
    } else if (link && link.classList.contains("report")) {
      handled = openFetched(link, "report");
    } else if (link && link.classList.contains("edit") && link.closest(".own-actions")) {
      handled = openFetched(link, "edit");
    } else if (link && link.classList.contains("cancel-reply") && link.closest(".inline-panel")) {
      closePanel(link.closest(".inline-panel"), true);
      handled = true;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!window.fetch || !window.DOMParser || !window.FormData) return;
    // Only on the thread itself: the edit and report pages, opened alone, post
    // as plain forms.
    if (!document.getElementById("comments-heading")) return;
    if (!form.closest("main[data-parent-origin]") || form.method.toLowerCase() !== "post") return;
    // The comment forms, the panels' forms and the delete confirmation; others
    // (a "respect" press) answer for themselves.
    if (!form.matches(".comment-form, .inline-panel form, .confirm-delete")) return;
    event.preventDefault();
    send(form, event.submitter);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var panel = event.target.closest && event.target.closest(".inline-panel");
    if (panel && panel.openerLink) closePanel(panel, true);
  });

  // ---- After a load, or after the thread was replaced ----
  var polling = null;
  function settle() {
    Array.prototype.forEach.call(document.querySelectorAll("form.comment-form"), enhanceForm);
    var result = document.getElementById("result");
    var replyForm = document.getElementById("reply-form");
    var status = result && result.getAttribute("data-comment-status");
    var own = result && result.getAttribute("data-comment-id");
    var mine = own && document.getElementById("comment-" + own);
    if (result && result.textContent.trim()) {
      // After a post: the reader's published comment, or the announcement (it is
      // also aria-live) with the form that needs them.
      if (status === "published" && mine) {
        mine.classList.add("is-target");
        var article = mine.querySelector("article");
        article.setAttribute("tabindex", "-1");
        article.focus({ preventScroll: true });
        reveal(mine);
      } else {
        var error = document.querySelector(".comment-form .form-error, .comment-form [aria-invalid=true]");
        var where = (replyForm && !status) ? replyForm : result;
        result.setAttribute("tabindex", "-1");
        result.focus({ preventScroll: true });
        reveal(where);
        if (error && error.focus && error.tagName !== "P") error.focus({ preventScroll: true });
      }
    } else if (replyForm) {
      // ?reply_to=N (a Reply link followed without script, or shared): the form
      // opened under its comment, which may be far down the parent page.
      var body = replyForm.querySelector("textarea");
      reveal(replyForm);
      if (body) body.focus({ preventScroll: true });
    }
    watchVerdict(result);
  }

  // A comment still being checked: ask how it ended, then show the thread as
  // its poster should see it. Polling stops after about two minutes.
  function watchVerdict(result) {
    if (polling) { window.clearTimeout(polling); polling = null; }
    var receiptUrl = result && result.getAttribute("data-receipt-url");
    var reloadUrl = result && result.getAttribute("data-reload-url");
    if (!receiptUrl || !reloadUrl || !window.fetch) return;
    var tries = 0;
    var poll = function () {
      tries += 1;
      fetch(receiptUrl, { credentials: "omit", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (body && body.status && body.status !== "received") {
            window.location.replace(reloadUrl);
          } else if (tries < 40) {
            polling = window.setTimeout(poll, tries < 10 ? 1000 : 3000);
          }
        })
        .catch(function () {
          if (tries < 40) polling = window.setTimeout(poll, 3000);
        });
    };
    polling = window.setTimeout(poll, 1000);
  }

  if (document.readyState === "complete") {
    settle();
  } else {
    window.addEventListener("load", settle);
  }
})();
