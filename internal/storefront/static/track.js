// Souq storefront tracking: queues Segment-style track events described by
// the page's <script type="application/json" id="souq-track"> block and
// sends them to the collector in batches with navigator.sendBeacon (the
// write key travels in the body, as analytics.js sends it). Nothing is sent
// without consent or with Do Not Track. Cart events come from the server,
// on the page after it accepted the change; the anonymousId is the
// server's visitor id, which its order events carry too. No dependencies;
// ES2017.
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
  const aid = cfg.anonymousId || rid();

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
  const send = (msg) => {
    queue.push(Object.assign(msg, {
      messageId: rid(), anonymousId: aid, timestamp: new Date().toISOString(),
      context: { market: cfg.market, locale: cfg.lang, page: { path: location.pathname } },
    }));
    if (!timer) timer = setTimeout(flush, 2000);
  };

  if (cfg.page) send({ type: 'page', name: cfg.page.name, properties: cfg.page.properties || {} });
  (cfg.events || []).forEach((e) => send({ type: 'track', event: e.event, properties: e.properties || {} }));
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flush(); });
  addEventListener('pagehide', flush);
})();
