// A table too wide for a phone scrolls inside its card. A keyboard user must be able to reach
// and scroll it (WCAG 2.1.1; axe's scrollable-region-focusable): such a card becomes a named,
// focusable region. Tables of the dashboard's own pages read as cards on a phone instead
// (app.css, table.grid.stack); this covers any other.
(function () {
  function mark() {
    document.querySelectorAll("main .card").forEach(function (card) {
      var scrolls = card.scrollWidth > card.clientWidth + 1;
      if (scrolls && !card.hasAttribute("tabindex")) {
        card.setAttribute("tabindex", "0");
        card.setAttribute("role", "region");
        var heading = card.querySelector("h2, h1");
        card.setAttribute("aria-label", heading ? heading.textContent.trim() : document.title);
        card.dataset.scrollRegion = "1";
      } else if (!scrolls && card.dataset.scrollRegion) {
        card.removeAttribute("tabindex");
        card.removeAttribute("role");
        card.removeAttribute("aria-label");
        delete card.dataset.scrollRegion;
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
})();
