// On the publisher's page: size each comment iframe from its own messages.
// A message counts only when it comes from that iframe's window and origin.
(function () {
  "use strict";
  var frames = Array.prototype.slice.call(
    document.querySelectorAll("iframe.moderation-thread")
  );

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object") return;
    frames.forEach(function (frame) {
      if (event.source !== frame.contentWindow) return;
      if (event.origin !== new URL(frame.src, window.location.href).origin) return;
      if (data.type === "moderation:height" && typeof data.height === "number") {
        // Bounded: a page must not be made arbitrarily tall by a message.
        frame.style.height = Math.max(150, Math.min(data.height, 100000)) + "px";
      } else if (data.type === "moderation:scroll" && typeof data.top === "number") {
        var top = frame.getBoundingClientRect().top + window.scrollY + data.top - 80;
        window.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
      }
    });
  });
})();
