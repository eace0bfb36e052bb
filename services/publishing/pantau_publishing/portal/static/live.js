// Progressive enhancement only: the case page is complete without this script.
// Listens to /kasus/{receipt}/events and reloads the page when the case's revision changes.
(function () {
  var article = document.querySelector("article.case[data-receipt]");
  if (!article || !window.EventSource) { return; }
  var shown = Number(article.getAttribute("data-revision"));
  var hint = document.getElementById("live-hint");
  if (hint) { hint.hidden = false; }
  var source = new EventSource("/kasus/" + encodeURIComponent(article.getAttribute("data-receipt")) + "/events");
  source.addEventListener("revision", function (event) {
    var revision = JSON.parse(event.data).revision;
    if (revision > shown) {
      var live = document.getElementById("live");
      if (live) { live.textContent = live.getAttribute("data-msg"); }
      source.close();
      window.location.reload();
    }
  });
})();
