// Buttons marked data-print-page open the browser's print dialog (the referral sheet).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print-page]")) {
    window.print();
  }
});
