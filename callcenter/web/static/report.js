// The report's "In báo cáo" button prints the page (the print style sheet hides the menu and the form).
// No inline script (CSP).
(function () {
  "use strict";
  var button = document.getElementById("in-bao-cao");
  if (!button) { return; }
  button.addEventListener("click", function () { window.print(); });
})();
