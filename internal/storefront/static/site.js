// Souq storefront: the flash-sale countdown. The page shows the sale's end
// (or start) time without JavaScript; this turns it into a live countdown.
(() => {
  'use strict';
  const t = document.getElementById('sale-countdown');
  if (!t) return;
  const end = Date.parse(t.getAttribute('datetime'));
  if (Number.isNaN(end)) return;
  const label = document.getElementById('sale-label');
  const ar = document.documentElement.lang === 'ar';
  const digits = (s) => (ar ? s.replace(/[0-9]/g, (d) => '٠١٢٣٤٥٦٧٨٩'[d]) : s);
  const two = (n) => String(n).padStart(2, '0');
  const tick = () => {
    const left = Math.max(0, Math.floor((end - Date.now()) / 1000));
    if (label && label.dataset.in) label.textContent = label.dataset.in;
    t.textContent = digits(two(Math.floor(left / 3600)) + ':' + two(Math.floor(left / 60) % 60) + ':' + two(left % 60));
    if (left === 0) {
      if (t.dataset.done) t.textContent = t.dataset.done;
      return;
    }
    setTimeout(tick, 1000 - (Date.now() % 1000));
  };
  tick();
})();
