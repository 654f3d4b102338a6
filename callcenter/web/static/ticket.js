// Transcript turns seek the mix recording to where the turn starts, and play it. No inline script (CSP).
(function () {
  "use strict";
  var audio = document.getElementById("audio-mix");
  if (!audio) { return; }
  var buttons = document.querySelectorAll(".turn-button[data-start]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener("click", function () {
      var start = parseFloat(button.getAttribute("data-start"));
      if (isNaN(start)) { return; }
      var seek = function () {
        audio.currentTime = start;
        var played = audio.play();
        if (played && played.catch) { played.catch(function () { /* autoplay refused: the seek stays */ }); }
      };
      if (audio.readyState >= 1) { seek(); } else {
        audio.addEventListener("loadedmetadata", seek, { once: true });
        audio.load();
      }
    });
  });
})();
