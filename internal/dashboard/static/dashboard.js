// Souq live dashboard: follows the event stream at /dashboard/events and
// updates the page the server rendered. Element ids match
// templates/dashboard.html; number and time formats match format.go.
// Data only ever reaches the page through textContent and attributes.
'use strict';
(function () {
  const root = document.documentElement;
  const offsetMs = Number(root.dataset.utcOffset || 0) * 60000;
  const NONE = '–';
  const CHART_W = 600, CHART_H = 150; // the charts' viewBox (page.go)
  const DIM_ROWS = 12;                // rows of the category and city tables (maxDimRows)
  const SLOW_DELAY = 60;              // seconds of processing delay shown as a warning (slowDelay)
  const STALE_AFTER = 5000;           // ms without an update before the page says so

  const byId = (id) => document.getElementById(id);
  function setText(id, text) {
    const el = byId(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  // Formats, as in format.go.
  const group = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  function int(n) {
    n = Math.trunc(n || 0);
    return n < 0 ? '-' + group(String(-n)) : group(String(n));
  }
  function aed(fils) {
    fils = Math.trunc(fils || 0);
    const abs = Math.abs(fils);
    return (fils < 0 ? '-' : '') + int(Math.floor(abs / 100)) + '.' + String(abs % 100).padStart(2, '0');
  }
  function decimal(s) {
    if (!s) return NONE;
    const sign = s[0] === '-' ? '-' : '';
    const [whole, frac] = s.replace(/^-/, '').split('.');
    return sign + group(whole) + (frac === undefined ? '' : '.' + frac);
  }
  const pct = (rate) => ((rate || 0) * 100).toFixed(1) + '%';
  function perSecond(rate) {
    const [whole, frac] = (rate || 0).toFixed(1).split('.');
    return group(whole) + '.' + frac + '/s';
  }
  const isZeroTime = (iso) => !iso || iso.startsWith('0001-');
  // Date.parse is only sure of milliseconds; Go writes nanoseconds.
  const parse = (iso) => Date.parse(iso.replace(/(\.\d{3})\d+/, '$1'));
  function clock(iso, seconds) {
    if (isZeroTime(iso)) return NONE;
    const d = new Date(parse(iso) + offsetMs);
    const two = (n) => String(n).padStart(2, '0');
    return two(d.getUTCHours()) + ':' + two(d.getUTCMinutes()) + (seconds ? ':' + two(d.getUTCSeconds()) : '');
  }
  function age(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }

  // Table rows, built with createElement and textContent.
  function cell(tag, content) {
    const c = document.createElement(tag);
    if (tag === 'th') c.scope = 'row';
    if (typeof content === 'string') c.textContent = content;
    else c.append(content);
    return c;
  }
  const td = (text) => cell('td', text);
  function fillRows(id, items, cells, emptyText, columns) {
    const body = byId(id);
    if (!body) return;
    const rows = items.map((item) => {
      const tr = document.createElement('tr');
      tr.append(...cells(item));
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      tr.className = 'empty';
      const c = td(emptyText);
      c.colSpan = columns;
      tr.append(c);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }

  function header(s) {
    setText('at', clock(s.at, true));
    byId('at')?.setAttribute('datetime', s.at || '');
    setText('watermark', clock(s.watermark, true));
    setText('behind', isZeroTime(s.watermark) ? 'no events yet' : age(parse(s.at) - parse(s.watermark)) + ' behind');
    setText('max-seq', int(s.max_seq));
  }

  const conversion = (r) => pct(r.views ? r.orders / r.views : 0);
  const TILES = {
    orders: (r) => int(r.orders),
    revenue: (r) => aed(r.revenue_aed),
    net: (r) => aed(r.net_revenue_aed),
    views: (r) => int(r.views),
    adds: (r) => int(r.add_units),
    conv: conversion,
  };
  function tiles(s) {
    for (const [id, format] of Object.entries(TILES)) {
      setText('lh-' + id, format(s.last_hour || {}));
      setText('td-' + id, format(s.today || {}));
    }
  }

  const CHARTS = [
    ['views', 'Product views per minute', (m) => m.views, int],
    ['orders', 'Orders per minute', (m) => m.orders, int],
    ['revenue', 'Revenue per minute (AED)', (m) => m.revenue_aed, aed],
  ];
  // points returns the SVG points of a line through values and of the
  // area under it (chartPoints in page.go).
  function points(values) {
    if (values.length === 0) return ['', ''];
    const top = Math.max(1, ...values);
    const step = values.length > 1 ? CHART_W / (values.length - 1) : 0;
    const line = values.map((v, i) =>
      (i * step).toFixed(1) + ',' + (CHART_H - (Math.max(v, 0) / top) * (CHART_H - 4)).toFixed(1)).join(' ');
    const base = CHART_H.toFixed(1);
    return [line, '0,' + base + ' ' + line + ' ' + ((values.length - 1) * step).toFixed(1) + ',' + base];
  }
  function charts(minutes) {
    for (const [id, title, value, format] of CHARTS) {
      const values = minutes.map((m) => value(m) || 0);
      const total = values.reduce((a, b) => a + b, 0);
      const peak = Math.max(0, ...values);
      const latest = values.length ? values[values.length - 1] : 0;
      const [line, area] = points(values);
      byId('c-' + id + '-line')?.setAttribute('points', line);
      byId('c-' + id + '-area')?.setAttribute('points', area);
      byId('c-' + id)?.setAttribute('aria-label', title + ' over the last 60 minutes: ' + format(total) +
        ' in all, peak ' + format(peak) + ', this minute so far ' + format(latest) + '.');
      setText('c-' + id + '-peak', format(peak));
      setText('c-' + id + '-latest', format(latest));
    }
    const body = byId('minutes-body');
    if (body && body.closest('details')?.open) {
      fillRows('minutes-body', minutes.slice().reverse(), (m) =>
        [cell('th', clock(m.start, false)), td(int(m.views)), td(int(m.orders)), td(aed(m.revenue_aed))], '', 4);
    }
  }

  function markets(list) {
    const seen = new Set();
    for (const m of list) {
      seen.add(m.market);
      const row = byId('m-' + m.market);
      if (!row) continue;
      row.hidden = false;
      for (const [key, p] of [['td', m.today || {}], ['lh', m.last_hour || {}]]) {
        const prefix = 'm-' + m.market + '-' + key + '-';
        setText(prefix + 'local', m.currency && p.revenue_local ? m.currency + ' ' + decimal(p.revenue_local) : NONE);
        setText(prefix + 'aed', aed(p.revenue_aed));
        setText(prefix + 'orders', int(p.orders));
      }
    }
    const unknown = byId('m-unknown');
    if (unknown) unknown.hidden = !seen.has('unknown');
  }

  function span(text, lang, dir) {
    const s = document.createElement('span');
    s.lang = lang;
    s.dir = dir;
    s.textContent = text;
    return s;
  }
  // isolated fills el with Arabic text whose Latin runs ("SPF50+") are
  // each in a <bdi dir="ltr">, as the page's template does (package
  // bidi): a run starts at a Latin letter and ends before the next
  // Arabic letter, its trailing spaces left out.
  const LATIN_RUN = /[A-Za-z\u00C0-\u024F][^\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]*/g;
  function isolated(text, el) {
    let at = 0;
    for (const m of text.matchAll(LATIN_RUN)) {
      const run = m[0].trimEnd();
      el.append(text.slice(at, m.index));
      const b = document.createElement('bdi');
      b.dir = 'ltr';
      b.textContent = run;
      el.append(b);
      at = m.index + run.length;
    }
    el.append(text.slice(at));
    return el;
  }
  // productName shows the names as the catalogue gives them, each
  // marked with its language and direction.
  function productName(p, names) {
    const n = names[p.product_id];
    const c = cell('th', '');
    c.title = p.product_id;
    if (!n || (!n.en && !n.ar)) {
      const code = document.createElement('code');
      code.textContent = p.product_id;
      c.append(code);
      return c;
    }
    if (n.en) c.append(span(n.en, 'en', 'ltr'));
    if (n.ar) {
      const ar = isolated(n.ar, span('', 'ar', 'rtl'));
      ar.className = 'ar';
      c.append(' ', ar);
    }
    return c;
  }
  function trending(lists, names) {
    for (const t of lists) {
      fillRows('tr-' + t.window, t.products || [], (p) => [td(String(p.rank)), productName(p, names),
        td(int(p.views)), td(int(p.add_events)), td(int(p.orders)), td(aed(p.revenue_aed))],
      'No activity in this window.', 6);
    }
  }

  function funnel(f) {
    const views = f.views || 0;
    const stages = [['view', f.views, null], ['cart', f.add_to_cart, f.view_to_cart],
      ['checkout', f.checkouts, f.cart_to_checkout], ['order', f.orders, f.checkout_to_order]];
    for (const [id, n, step] of stages) {
      const share = views ? (n || 0) / views : 0;
      setText('f-' + id + '-n', int(n));
      setText('f-' + id + '-step', step === null ? NONE : pct(step));
      setText('f-' + id + '-of', pct(share));
      byId('f-' + id + '-bar')?.setAttribute('width', (Math.min(share, 1) * 100).toFixed(1));
    }
    setText('f-overall', pct(f.view_to_order));
  }

  function dims(id, rows) {
    const shown = rows.slice(0, DIM_ROWS);
    setText(id + '-shown', String(shown.length));
    setText(id + '-count', int(rows.length));
    fillRows(id + '-body', shown, (r) => [cell('th', r.name), td(int(r.views)), td(int(r.add_units)),
      td(int(r.orders)), td(int(r.units)), td(aed(r.revenue_aed))], 'Nothing yet.', 6);
  }

  const HEALTH = {
    'h-ingest': (h) => perSecond(h.ingest_per_second),
    'h-stream': (h) => int(h.stream_messages),
    'h-lag': (h) => int(h.stream_lag),
    'h-archive-lag': (h) => int(h.archive_lag),
    'h-missing': (h) => int(h.archive_missing),
    'h-files': (h) => int(h.archive_files),
    'h-seq': (h) => int(h.last_archived_seq),
    'h-dead': (h) => int(h.dead_letters),
    'h-delay': (h) => age((h.processing_delay_seconds || 0) * 1000),
  };
  function health(h) {
    const failing = !!h && h.status === 'error';
    setText('h-state', h ? (failing ? 'error' : 'reporting') : 'unavailable');
    byId('h-state')?.classList.toggle('warn', failing);
    byId('h-missing')?.classList.toggle('warn', !!h && h.archive_missing > 0);
    const errs = byId('h-errors');
    if (errs) {
      errs.replaceChildren(...((h && h.errors) || []).map((e) => cell('li', e)));
    }
    for (const [id, format] of Object.entries(HEALTH)) setText(id, h ? format(h) : NONE);
    byId('h-dead')?.classList.toggle('warn', !!h && h.dead_letters > 0);
    byId('h-delay')?.classList.toggle('warn', !!h && h.processing_delay_seconds >= SLOW_DELAY);
  }

  function render(u) {
    const s = u.snapshot || {};
    header(s);
    tiles(s);
    charts(s.minutes || []);
    markets(s.markets || []);
    trending(s.trending || [], u.names || {});
    funnel(s.funnel || {});
    const hour = s.last_hour || {};
    setText('f-searches', int(hour.searches));
    setText('f-zero-searches', int(hour.zero_result_searches));
    dims('cat', s.categories || []);
    dims('city', s.cities || []);
    health(u.health);
  }

  // The stream. EventSource reconnects by itself after a dropped
  // connection; after an HTTP error it gives up, so we start again.
  let source = null;
  let lastUpdate = 0;
  function setStatus(text, stale) {
    setText('status', text);
    root.classList.toggle('stale', stale);
  }
  function connect() {
    setStatus('connecting…', true);
    source = new EventSource('/dashboard/events');
    source.addEventListener('snapshot', (e) => {
      try {
        render(JSON.parse(e.data));
      } catch (err) {
        console.error('dashboard update', err);
        return;
      }
      lastUpdate = Date.now();
      byId('notice').hidden = true;
      setStatus('live', false);
    });
    source.addEventListener('unavailable', () => {
      byId('notice').hidden = false;
      setStatus('figures unavailable; retrying…', true);
    });
    source.addEventListener('error', () => {
      setStatus('reconnecting…', true);
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    });
  }
  setInterval(() => {
    if (lastUpdate && source && source.readyState === EventSource.OPEN && Date.now() - lastUpdate > STALE_AFTER) {
      setStatus('no update for ' + age(Date.now() - lastUpdate), true);
    }
  }, 1000);
  connect();
})();
