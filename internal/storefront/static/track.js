// Souq storefront tracking: queues Segment-style track events described by
// the page's <script type="application/json" id="souq-track"> block and
// sends them to the collector in batches with navigator.sendBeacon (the
// write key travels in the body, as analytics.js sends it). Nothing is sent
// without consent or with Do Not Track. No dependencies; ES2017.
(() => {
  'use strict';
  const el = document.getElementById('souq-track');
  if (!el) return;
  let cfg;
  try { cfg = JSON.parse(el.textContent); } catch (e) { return; }
  if (!cfg.consent || navigator.doNotTrack === '1' || window.doNotTrack === '1') return;

  const rid = () => {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  };
  let aid;
  try {
    aid = localStorage.getItem('souq_aid');
    if (!aid) { aid = rid(); localStorage.setItem('souq_aid', aid); }
  } catch (e) { aid = rid(); }

  const queue = [];
  let timer = 0;
  const flush = () => {
    clearTimeout(timer);
    timer = 0;
    while (queue.length) {
      const body = JSON.stringify({ batch: queue.splice(0, 50), sentAt: new Date().toISOString(), writeKey: cfg.writeKey });
      let sent = false;
      try { sent = navigator.sendBeacon && navigator.sendBeacon(cfg.url, new Blob([body], { type: 'text/plain' })); } catch (e) { sent = false; }
      if (!sent && window.fetch) {
        fetch(cfg.url, { method: 'POST', body, keepalive: true, credentials: 'omit', headers: { 'Content-Type': 'application/json' } }).catch(() => {});
      }
    }
  };
  const track = (event, properties) => {
    queue.push({
      type: 'track', event, properties: properties || {},
      messageId: rid(), anonymousId: aid, timestamp: new Date().toISOString(),
      context: { market: cfg.market, locale: cfg.lang, page: { path: location.pathname } },
    });
    if (!timer) timer = setTimeout(flush, 2000);
  };

  (cfg.events || []).forEach((e) => track(e.event, e.properties));

  const form = document.getElementById('add-to-cart');
  if (form && cfg.product) {
    form.addEventListener('submit', () => {
      const q = parseInt(form.elements.quantity && form.elements.quantity.value, 10);
      const p = Object.assign({}, cfg.product);
      if (q > 0 && q <= 100) p.quantity = q;
      track('Product Added', p);
      flush(); // the page is about to unload; sendBeacon outlives it
    });
  }
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flush(); });
  addEventListener('pagehide', flush);
})();
