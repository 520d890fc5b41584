// On the publisher's page, with the plain <iframe class="moderation-thread">
// snippet: size each comment iframe from its own messages. A message counts only
// when it comes from that iframe's window and origin. (embed.js does the same
// for the iframe it creates; this file is for pages that write the iframe.)
(function () {
  "use strict";
  function frames() {
    // Looked up per message: frames added after this script ran count too.
    return Array.prototype.slice.call(
      document.querySelectorAll("iframe.moderation-thread")
    );
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object") return;
    frames().forEach(function (frame) {
      if (event.source !== frame.contentWindow) return;
      if (event.origin !== new URL(frame.src, window.location.href).origin) return;
      if (data.type === "moderation:height" && typeof data.height === "number" &&
          isFinite(data.height)) {
        // Bounded: a page must not be made arbitrarily tall by a message.
        frame.style.height = Math.max(150, Math.min(Math.ceil(data.height), 100000)) + "px";
      } else if (data.type === "moderation:scroll" && typeof data.top === "number" &&
                 isFinite(data.top)) {
        var top = frame.getBoundingClientRect().top + window.scrollY + data.top - 80;
        window.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
      }
    });
  });
})();
