// Herald dashboard: times in the browser's own zone, and live parts that refresh when the
// app changes (server-sent events). Everything works without it, minus those two.
(function () {
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) { t.textContent = d.toLocaleString(); t.title = t.getAttribute("datetime"); }
    });
  }
  localTimes(document);
  var url = document.body.getAttribute("data-live");
  if (!url || !window.EventSource) { return; }
  var source = new EventSource(url);
  source.addEventListener("changed", function () {
    fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-part]").forEach(function (part) {
          var fresh = next.querySelector('[data-live-part="' + part.getAttribute("data-live-part") + '"]');
          if (fresh) { part.replaceWith(fresh); localTimes(fresh); }
        });
      });
  });
})();
