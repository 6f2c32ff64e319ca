// Small improvements to pages that work fully without this file.
(function () {
  "use strict";
  // An error summary or a notice the server marked takes focus, so a screen reader reads it
  // and the page shows it (for browsers that ignore autofocus on a non-field).
  var first = document.querySelector("[data-focus-first]");
  if (first && document.activeElement !== first) first.focus();

  var form = document.querySelector("form.donate");
  if (form) {
    var amount = form.querySelector("#amount");
    var custom = form.querySelector("input[name=tier][value=custom]");
    var give = form.querySelector("button.give");
    // Typing an amount chooses "Other": the typed amount is what the donor means.
    if (amount && custom) amount.addEventListener("input", function () { if (amount.value.trim()) custom.checked = true; });
    // The Give button names the amount chosen: "Give £40.00 a month".
    var label = function () {
      if (!give) return;
      var tier = form.querySelector("input[name=tier]:checked");
      var monthly = form.querySelector("input[name=frequency][value=monthly]:checked");
      var sum = tier && tier.dataset.amount;
      if (tier && tier.value === "custom" && amount && /^\d+(\.\d{1,2})?$/.test(amount.value.trim())) {
        sum = "£" + Number(amount.value.trim()).toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      }
      give.textContent = sum ? "Give " + sum + (monthly ? " a month" : "") : "Give";
    };
    form.addEventListener("change", label);
    if (amount) amount.addEventListener("input", label);
    label();
  }

  // Copy link: the link itself still works (it is the page's address).
  Array.prototype.forEach.call(document.querySelectorAll("a[data-copy]"), function (a) {
    a.addEventListener("click", function (e) {
      if (!navigator.clipboard) return;
      e.preventDefault();
      navigator.clipboard.writeText(a.href).then(function () {
        var status = document.getElementById("copy-status");
        if (status) status.textContent = "Link copied";
      });
    });
  });
})();
