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
  function refresh() {
    fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-part]").forEach(function (part) {
          var fresh = next.querySelector('[data-live-part="' + part.getAttribute("data-live-part") + '"]');
          if (fresh) { part.replaceWith(fresh); localTimes(fresh); }
        });
      });
  }
  var source = new EventSource(url);
  // "ready" too: what changed between this page's rendering and the stream's start.
  source.addEventListener("ready", refresh);
  source.addEventListener("changed", refresh);
})();
// A date and time typed into a form is the browser's local time: it is sent as UTC.
document.querySelectorAll("input[type=datetime-local]").forEach(function (input) {
  input.form.addEventListener("submit", function () {
    if (!input.value) { return; }
    var utc = document.createElement("input");
    utc.type = "hidden"; utc.name = input.name; utc.value = new Date(input.value).toISOString();
    input.removeAttribute("name");
    input.form.appendChild(utc);
  });
});
