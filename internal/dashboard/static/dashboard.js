// Souq live dashboard: follows the event stream at /dashboard/events and
// updates the page the server rendered. Element ids match
// templates/dashboard.html; number and time formats match format.go.
// Data only ever reaches the page through textContent and attributes.
'use strict';
(function () {
  const root = document.documentElement;
  const offsetMs = Number(root.dataset.utcOffset || 0) * 60000;
  const NONE = '–';
  // The charts' plot area in viewBox units (page_format.go).
  const PLOT_L = 56, PLOT_R = 468, PLOT_T = 34, PLOT_B = 190;
  // The page's language; the words the script writes itself, in both
  // (page_i18n.go has the rest, rendered into the page).
  const LANG = root.lang === 'ar' ? 'ar' : 'en';
  const WORDS = {
    en: {
      s: 's', min: 'min', h: 'h', behind: ' behind', noEvents: 'no events yet', live: 'live',
      connecting: 'connecting…', reconnecting: 'reconnecting…', unavailable: 'figures unavailable; retrying…',
      noUpdate: 'no update for ', reporting: 'reporting', error: 'error', hUnavailable: 'unavailable',
      nothing: 'Nothing yet.', noActivity: 'No activity in this window.', noAlerts: 'No active alerts.',
      critical: 'Critical', warning: 'Warning', since: 'since', up: 'up', down: 'down', same: 'no change',
      noData: 'no data', upFromZero: 'up from zero', soldOut: 'SOLD OUT', onSale: 'On sale', shown: (a, b) => a + ' of ' + b + ' shown',
      chart: (t, total, peak, latest) => t + ' over the last 60 minutes: ' + total + ' in all, peak ' + peak + ', this minute so far ' + latest + '.',
      loading: 'Loading…', failed: 'Could not load the query.',
      running: (t) => 'running, ends at ' + t, ended: (t) => 'ended at ' + t,
      minute: 'Last minute', hour: 'Last hour', day: 'Today',
    },
    ar: {
      s: 'ث', min: 'د', h: 'س', behind: null, noEvents: 'لا أحداث بعد', live: 'مباشر',
      connecting: 'جارٍ الاتصال…', reconnecting: 'إعادة الاتصال…', unavailable: 'الأرقام غير متاحة؛ إعادة المحاولة…',
      noUpdate: 'لا تحديث منذ ', reporting: 'يعمل', error: 'خطأ', hUnavailable: 'غير متاح',
      nothing: 'لا شيء بعد.', noActivity: 'لا نشاط في هذه الفترة.', noAlerts: 'لا تنبيهات نشطة.',
      critical: 'حرج', warning: 'تحذير', since: 'منذ', up: 'ارتفاع', down: 'انخفاض', same: 'دون تغيير',
      noData: 'لا بيانات', upFromZero: 'ارتفاع من الصفر', soldOut: 'نفدت الكمية', onSale: 'في التخفيضات', shown: (a, b) => 'يظهر ' + a + ' من ' + b,
      chart: (t, total, peak, latest) => t + ' خلال آخر 60 دقيقة: ' + total + ' إجمالًا، الذروة ' + peak + '، وهذه الدقيقة حتى الآن ' + latest + '.',
      loading: 'جارٍ التحميل…', failed: 'تعذر تحميل الاستعلام.',
      running: (t) => 'جارية، تنتهي في ' + t, ended: (t) => 'انتهت في ' + t,
      minute: 'الدقيقة الأخيرة', hour: 'الساعة الأخيرة', day: 'اليوم',
    },
  }[LANG];
  const behindText = (a) => (WORDS.behind === null ? 'متأخرة ' + a : a + WORDS.behind);
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
    const w = WORDS;
    if (s < 60) return s + ' ' + w.s;
    if (s < 3600) return Math.floor(s / 60) + ' ' + w.min + ' ' + (s % 60) + ' ' + w.s;
    return Math.floor(s / 3600) + ' ' + w.h + ' ' + Math.floor((s % 3600) / 60) + ' ' + w.min;
  }

  // Table rows, built with createElement and textContent.
  function cell(tag, content, label) {
    const c = document.createElement(tag);
    if (tag === 'th') c.scope = 'row';
    if (typeof content === 'string') c.textContent = content;
    else c.append(content);
    if (label) c.dataset.label = label;
    return c;
  }
  // td is a cell labelled, for the phone's cards, as the column's header
  // in the page (labels[i]).
  const td = (text, label) => cell('td', text, label);
  // labelsOf reads the data-label of the cells of a table's first
  // server-rendered row, so rows the script builds get the same.
  const labelCache = {};
  function labelsOf(bodyId) {
    if (labelCache[bodyId]) return labelCache[bodyId];
    const heads = byId(bodyId)?.closest('table')?.querySelectorAll('thead tr:last-child th') || [];
    labelCache[bodyId] = [...heads].map((h) => h.textContent.trim());
    return labelCache[bodyId];
  }
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
    setText('behind', isZeroTime(s.watermark) ? WORDS.noEvents : behindText(age(parse(s.at) - parse(s.watermark))));
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

  // The charts: the figure of a minute each draws, its format, and the
  // scale of its y axis (revenue is drawn in dirhams, not fils).
  const CHARTS = [
    ['views', (m) => m.views, int, 1],
    ['orders', (m) => m.orders, int, 1],
    ['revenue', (m) => m.revenue_aed, aed, 0.01],
  ];
  // niceTop, compact and points are niceTop, fmtCompact and chartPoints
  // in page_format.go.
  function niceTop(v) {
    if (v <= 1) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }
  function compact(v) {
    const trim = (x) => x.toFixed(1).replace(/\.0$/, '');
    const a = Math.abs(v);
    if (a >= 1e6) return trim(v / 1e6) + 'M';
    if (a >= 1e3) return trim(v / 1e3) + 'k';
    return trim(v);
  }
  const xAt = (i, n) => (n <= 1 ? PLOT_L : PLOT_L + i * (PLOT_R - PLOT_L) / (n - 1));
  function points(values, top) {
    if (values.length === 0) return ['', ''];
    top = Math.max(top, 1);
    const n = values.length;
    const line = values.map((v, i) =>
      xAt(i, n).toFixed(1) + ',' + (PLOT_B - Math.min(Math.max(v, 0) / top, 1) * (PLOT_B - PLOT_T)).toFixed(1)).join(' ');
    const base = PLOT_B.toFixed(1);
    return [line, PLOT_L.toFixed(1) + ',' + base + ' ' + line + ' ' + xAt(n - 1, n).toFixed(1) + ',' + base];
  }
  function charts(minutes) {
    for (const [id, value, format, scale] of CHARTS) {
      const svg = byId('c-' + id);
      if (!svg) continue;
      const values = minutes.map((m) => value(m) || 0);
      const total = values.reduce((a, b) => a + b, 0);
      const peak = Math.max(0, ...values);
      const latest = values.length ? values[values.length - 1] : 0;
      const top = niceTop(peak * scale);
      const [line, area] = points(values, top / scale);
      byId('c-' + id + '-line')?.setAttribute('points', line);
      byId('c-' + id + '-area')?.setAttribute('points', area);
      [0, 0.5, 1].forEach((f, i) => setText('c-' + id + '-y' + i, compact(top * f)));
      // The x ticks keep their places (every 15 minutes); their clock
      // times move on with the minutes.
      const ticks = byId('c-' + id + '-x')?.querySelectorAll('text') || [];
      const n = minutes.length;
      ticks.forEach((t) => {
        const x = Number(t.getAttribute('x'));
        const i = n > 1 ? Math.round((x - PLOT_L) / ((PLOT_R - PLOT_L) / (n - 1))) : 0;
        if (minutes[i]) t.textContent = clock(minutes[i].start, false);
      });
      const title = svg.closest('figure')?.querySelector('h3')?.textContent || id;
      svg.setAttribute('aria-label', WORDS.chart(title, format(total), format(peak), format(latest)));
      setText('c-' + id + '-peak', format(peak));
      setText('c-' + id + '-latest', format(latest));
    }
    const body = byId('minutes-body');
    if (body && body.closest('details')?.open) {
      const l = labelsOf('minutes-body');
      fillRows('minutes-body', minutes.slice().reverse(), (m) =>
        [cell('th', clock(m.start, false)), td(int(m.views), l[1]), td(int(m.orders), l[2]), td(aed(m.revenue_aed), l[3])], '', 4);
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
  // nameNode is a product's name in the page's language (the other one
  // when it has none), marked with its language when it is the other,
  // its Latin runs isolated when it is Arabic (productNameHTML in
  // page_view.go); an unnamed product shows its id.
  function nameNode(n, id) {
    n = n || {};
    let text = LANG === 'ar' ? (n.ar || n.en) : (n.en || n.ar);
    if (!text) {
      const code = document.createElement('code');
      code.textContent = id;
      return code;
    }
    const isAr = text === n.ar && (LANG === 'ar' || !n.en);
    const s = span('', isAr ? 'ar' : 'en', isAr ? 'rtl' : 'ltr');
    if (isAr) isolated(text, s); else s.textContent = text;
    if ((isAr ? 'ar' : 'en') === LANG) { s.removeAttribute('lang'); s.removeAttribute('dir'); }
    return s;
  }
  const nameOf = (n) => (n ? (LANG === 'ar' ? (n.ar || n.en) : (n.en || n.ar)) : '') || '';
  function productName(p, names) {
    const c = cell('th', nameNode(names[p.product_id], p.product_id));
    c.title = p.product_id;
    return c;
  }
  function trending(lists, names) {
    for (const t of lists) {
      const l = labelsOf('tr-' + t.window);
      fillRows('tr-' + t.window, t.products || [], (p) => [td(String(p.rank), '#'), productName(p, names),
        td(int(p.views), l[2]), td(int(p.add_events), l[3]), td(int(p.orders), l[4]), td(aed(p.revenue_aed), l[5])],
      WORDS.noActivity, 6);
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
    const l = labelsOf(id + '-body');
    fillRows(id + '-body', shown, (r) => [cell('th', r.name), td(int(r.views), l[1]), td(int(r.add_units), l[2]),
      td(int(r.orders), l[3]), td(int(r.units), l[4]), td(aed(r.revenue_aed), l[5])], WORDS.nothing, 6);
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
    setText('h-state', h ? (failing ? WORDS.error : WORDS.reporting) : WORDS.hUnavailable);
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

  // Alerts: rows are kept by alert id, so that only a newly raised or an
  // escalated one is inserted with role=alert (and announced), not every
  // push. A known alert whose severity or message changed is redrawn: with
  // role=alert when it rose to critical, silently otherwise.
  function alerts(list, at) {
    const now = at && !isZeroTime(at) ? parse(at) : Date.now();
    const ul = byId('alerts');
    if (!ul) return;
    const SEV = { critical: 0, warning: 1 };
    list = list.slice().sort((a, b) => (SEV[a.severity] ?? 1) - (SEV[b.severity] ?? 1) || parse(a.since) - parse(b.since));
    const old = new Map([...ul.children].map((li) => [li.dataset.id, li]));
    const items = list.map((a) => {
      const sev = a.severity === 'critical' ? 'critical' : 'warning';
      const message = nameOf(a.message) || a.kind;
      const ago = () => {
        const since = document.createElement('span');
        since.className = 'since';
        const t = document.createElement('time');
        t.dateTime = a.since;
        t.textContent = clock(a.since, true);
        since.append(WORDS.since + ' ', t, ' (' + age(now - parse(a.since)) + ')');
        return since;
      };
      // words is the alert's severity and message: inside a live alert
      // when it is to be announced.
      const words = (announce) => {
        const sevEl = cell('span', WORDS[sev]);
        sevEl.className = 'sev';
        const msg = cell('span', message);
        msg.className = 'msg';
        if (!announce) return [sevEl, ' ', msg];
        const live = document.createElement('span');
        live.setAttribute('role', 'alert');
        live.append(sevEl, ' ', msg);
        return [live];
      };
      let li = old.get(a.id);
      if (li) {
        const was = li.classList.contains('critical') ? 'critical' : 'warning';
        if (was === sev && li.querySelector('.msg')?.textContent === message) {
          // Unchanged: only its age moves on, outside any live region.
          li.querySelector('.since')?.replaceWith(ago());
          return li;
        }
        // Escalated (announced again), eased or reworded (silently).
        li.className = 'alert ' + sev;
        li.replaceChildren(...words(SEV[sev] < SEV[was]), ' ', ago());
        return li;
      }
      // Newly raised: its words are a live alert, announced once.
      li = document.createElement('li');
      li.dataset.id = a.id;
      li.className = 'alert ' + sev;
      li.append(...words(true), ' ', ago());
      return li;
    });
    ul.replaceChildren(...items);
    setText('alerts-count', String(items.length));
    const noneEl = byId('alerts-none');
    if (noneEl) noneEl.hidden = items.length > 0;
  }

  // change fills el with a relative change: arrow, signed percentage and
  // word, so that colour is never the only cue (changeOf in page_panels.go).
  function change(el, rate, today, then) {
    if (!el) return;
    const known = rate !== null && rate !== undefined;
    let pctText = '', cls = 'none', arrow = '', word = WORDS.noData;
    if (known) {
      pctText = pct(rate);
      if (pctText === '0.0%' || pctText === '-0.0%') { pctText = '0.0%'; cls = 'same'; arrow = '='; word = WORDS.same; }
      else if (rate > 0) { pctText = '+' + pctText; cls = 'up'; arrow = '▲'; word = WORDS.up; }
      else { cls = 'down'; arrow = '▼'; word = WORDS.down; }
    } else if (then !== null && then !== undefined) {
      // then was 0: no percentage to give
      if (today) { cls = 'up'; arrow = '▲'; word = WORDS.upFromZero; } else { cls = 'same'; arrow = '='; word = WORDS.same; }
    }
    el.classList.remove('up', 'down', 'same', 'none');
    el.classList.add(cls);
    const a = el.querySelector('[aria-hidden]');
    const b = el.querySelector('bdi');
    if (a) a.textContent = arrow;
    if (b) b.textContent = pctText;
    const w = el.querySelector('.word');
    if (w) w.textContent = word;
  }
  const ratio = (now, then) => (then ? (now - then) / then : null);

  function figure(name, v) {
    if (v === null || v === undefined) return NONE;
    if (name === 'revenue_aed' || name === 'average_order_aed') return aed(Math.round(v));
    if (name === 'conversion') return pct(v);
    return int(v);
  }
  function compare(c) {
    for (const f of (c && c.figures) || []) {
      const tile = byId('cmp-' + f.figure);
      if (!tile) continue;
      const today = tile.querySelector('.today');
      if (today) today.textContent = figure(f.figure, f.today);
      for (const [vs, then, rate] of [['yesterday', f.yesterday, f.vs_yesterday], ['last_week', f.last_week, f.vs_last_week]]) {
        const p = tile.querySelector('[data-vs="' + vs + '"]');
        change(p, rate, f.today, then);
        const t = p?.querySelector('.then');
        if (t) t.textContent = figure(f.figure, then);
      }
    }
  }

  // Sale: the countdown runs between pushes from data-ends.
  // skew is the server's clock less this browser's, from the last push,
  // so that the countdown follows the server's time.
  let skew = 0;
  function countdown() {
    const el = byId('sale-left');
    if (!el || !el.dataset.ends) return;
    const s = Math.max(0, Math.floor((parse(el.dataset.ends) - Date.now() - skew) / 1000));
    el.textContent = Math.floor(s / 3600) + ':' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0');
  }
  function sale(p) {
    const panel = byId('sale-panel');
    if (!panel) return;
    if (!p) { panel.hidden = true; return; }
    if (!byId('sale-body')) return; // rendered without a sale: the next page load shows it
    panel.hidden = false;
    setText('sale-name', nameOf(p.name));
    setText('sale-state', (p.running ? WORDS.running : WORDS.ended)(clock(p.ends_at, true)));
    byId('sale-left').dataset.ends = p.running ? p.ends_at : '';
    if (!p.running) setText('sale-left', '0:00:00');
    const d = p.during || {}, b = p.before || {};
    for (const [id, now, then, format] of [['revenue', d.revenue_aed, b.revenue_aed, aed], ['units', d.units, b.units, int], ['orders', d.orders, b.orders, int]]) {
      const row = byId('sale-' + id);
      if (!row) continue;
      row.querySelector('.during').textContent = format(now);
      row.querySelector('.before').textContent = format(then);
      change(row.querySelector('.change'), ratio(now || 0, then || 0), now || 0, then || 0);
    }
    const l = labelsOf('sale-body');
    fillRows('sale-body', p.items || [], (it) => {
      const bar = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      bar.setAttribute('viewBox', '0 0 100 10');
      bar.setAttribute('preserveAspectRatio', 'none');
      bar.setAttribute('focusable', 'false');
      for (const [cls, w] of [['track', 100], ['fill', Math.min(Math.max(it.sell_through || 0, 0), 1) * 100]]) {
        const r = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
        r.setAttribute('class', cls);
        r.setAttribute('width', w.toFixed(1));
        r.setAttribute('height', '10');
        bar.append(r);
      }
      const barSpan = document.createElement('span');
      barSpan.className = 'bar';
      barSpan.setAttribute('aria-hidden', 'true');
      barSpan.append(bar);
      const sold = document.createElement('bdi');
      sold.dir = 'ltr';
      sold.textContent = int(it.sold) + ' / ' + int(it.offered);
      const soldCell = td('', l[2]);
      soldCell.append(barSpan, ' ', sold, ' (' + pct(it.sell_through) + ')');
      let out = it.sold_out_at ? clock(it.sold_out_at, false) : NONE;
      const outCell = td(out, l[5]);
      if (it.sold_out) {
        const flag = cell('strong', WORDS.soldOut);
        flag.className = 'flag';
        outCell.replaceChildren(flag);
      }
      return [cell('th', nameNode(it.name, it.product_id)), td(it.brand || '', l[1]), soldCell,
        td(int(it.stock), l[3]), td((it.units_per_minute || 0).toFixed(1), l[4]), outCell];
    }, WORDS.nothing, 6);
    [...byId('sale-body').children].forEach((tr, i) => tr.classList.toggle('sold-out', !!(p.items[i] && p.items[i].sold_out)));
  }

  function audience(a) {
    if (!a) return;
    const row = (r, name) => {
      const x = r.total || r;
      return [cell('th', name), td(int(x.visitors)), td(int(x.buyers)), td(pct(x.conversion)), td(aed(x.average_order_aed)),
        td((x.units_per_order || 0).toFixed(2))];
    };
    const label = (id, cells) => { const l = labelsOf(id); cells.forEach((c, i) => { if (i) c.dataset.label = l[i]; }); return cells; };
    // A market's name as the markets table writes it.
    const marketName = (code) => byId('m-' + code)?.querySelector('th')?.firstChild?.textContent.trim() || code;
    const windows = a.windows || [];
    fillRows('audience-body', windows, (w) => label('audience-body', row(w, WORDS[w.window] || w.window)), WORDS.nothing, 6);
    const hour = windows.find((w) => w.window === 'hour');
    fillRows('audience-markets-body', (hour && hour.markets) || [], (m) => label('audience-markets-body', row(m, marketName(m.market))), WORDS.nothing, 6);
  }

  function stock(p) {
    if (!p) return;
    for (const [id, rows] of [['watch', p.watch], ['low', (p.low || []).slice().sort((a, b) => a.stock - b.stock)], ['out', p.out]]) {
      const l = labelsOf('stock-' + id + '-body');
      fillRows('stock-' + id + '-body', rows || [], (r) => [cell('th', nameNode(r.name, r.product_id)), td(r.brand || '', l[1]),
        td(int(r.stock), l[2]), td(int(r.units_last_hour), l[3]), td(r.on_sale ? WORDS.onSale : '', l[4])], WORDS.nothing, 5);
    }
  }

  // The product table: rows from the push (every market, last hour) or,
  // with filters, from /api/v1/analytics/products; sorted here by the
  // column clicked, as sortProducts in page_products.go.
  const table = byId('products');
  const state = { sort: table?.dataset.sort || 'revenue', order: table?.dataset.order || 'desc', rows: null, filtered: false };
  const SORT_VALUE = {
    name: (p) => nameOf(p.name).toLowerCase(), brand: (p) => (p.brand || '').toLowerCase(), price: (p) => (p.price || {}).amount || 0,
    views: (p) => p.views, adds: (p) => p.add_events, orders: (p) => p.orders, revenue: (p) => p.revenue_aed, stock: (p) => p.stock,
    units: (p) => p.units,
  };
  function sortRows(rows) {
    const value = SORT_VALUE[state.sort] || SORT_VALUE.revenue;
    const dir = state.order === 'asc' ? 1 : -1;
    return rows.slice().sort((a, b) => {
      const x = value(a), y = value(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return c * dir || (a.product_id < b.product_id ? -1 : a.product_id > b.product_id ? 1 : 0);
    });
  }
  function money(m) {
    if (!m || !m.currency) return NONE;
    const exp = { KWD: 3, BHD: 3, OMR: 3 }[m.currency] || 2;
    const abs = Math.abs(m.amount), unit = Math.pow(10, exp);
    return m.currency + ' ' + (m.amount < 0 ? '-' : '') + int(Math.floor(abs / unit)) + '.' + String(abs % unit).padStart(exp, '0');
  }
  function productRows(total) {
    if (!table || !state.rows) return;
    const rows = sortRows(state.rows);
    const l = labelsOf('products-body');
    fillRows('products-body', rows, (p) => {
      const th = cell('th', nameNode(p.name, p.product_id));
      th.dataset.v = nameOf(p.name);
      return [th, td(p.brand || '', l[1]), td(money(p.price), l[2]), td(int(p.views), l[3]), td(int(p.add_events), l[4]),
        td(int(p.orders), l[5]), td(aed(p.revenue_aed), l[6]), td(int(p.stock), l[7])];
    }, WORDS.nothing, 8);
    [...byId('products-body').children].forEach((tr, i) => { if (rows[i]) tr.dataset.id = rows[i].product_id; });
    setText('products-shown', WORDS.shown(int(rows.length), int(total === undefined ? rows.length : total)));
    for (const th of table.querySelectorAll('thead th[data-key]')) {
      const key = th.dataset.key;
      th.setAttribute('aria-sort', key === state.sort ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none');
    }
  }
  // domRows reads the rows the server rendered, so that sorting works
  // before the first push.
  function domRows() {
    return [...(byId('products-body')?.querySelectorAll('tr[data-id]') || [])].map((tr) => tr);
  }
  function sortDOM() {
    const keys = [...table.querySelectorAll('thead th[data-key]')].map((th) => th.dataset.key);
    const col = keys.indexOf(state.sort);
    const dir = state.order === 'asc' ? 1 : -1;
    const numeric = !['name', 'brand'].includes(state.sort);
    const rows = domRows();
    rows.sort((a, b) => {
      let x = a.children[col]?.dataset.v || '', y = b.children[col]?.dataset.v || '';
      if (numeric) { x = Number(x); y = Number(y); } else { x = x.toLowerCase(); y = y.toLowerCase(); }
      return (x < y ? -1 : x > y ? 1 : 0) * dir || (a.dataset.id < b.dataset.id ? -1 : 1);
    });
    if (rows.length) byId('products-body').replaceChildren(...rows);
    for (const th of table.querySelectorAll('thead th[data-key]')) {
      th.setAttribute('aria-sort', th.dataset.key === state.sort ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none');
    }
  }
  const form = byId('pf');
  function formParams() {
    const p = new URLSearchParams(new FormData(form));
    p.set('sort', state.sort);
    p.set('order', state.order);
    return p;
  }
  function syncLinks() {
    const p = formParams();
    for (const k of [...p.keys()]) if (!p.get(k)) p.delete(k);
    form.querySelector('[name=sort]').value = state.sort;
    form.querySelector('[name=order]').value = state.order;
    const csv = new URLSearchParams(p);
    csv.set('format', 'csv');
    byId('csv-products')?.setAttribute('href', '/api/v1/analytics/products?' + csv.toString());
    byId('q-products')?.setAttribute('data-src', '/api/v1/analytics/products?' + p.toString());
    history.replaceState(null, '', '/dashboard?' + p.toString() + location.hash);
    const other = new URLSearchParams(p);
    other.set('lang', LANG === 'ar' ? 'en' : 'ar');
    byId('lang-switch')?.setAttribute('href', '/dashboard?' + other.toString());
  }
  async function fetchProducts() {
    const p = formParams();
    for (const k of [...p.keys()]) if (!p.get(k)) p.delete(k);
    const res = await fetch(form.dataset.api + '?' + p.toString(), { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error('products: HTTP ' + res.status);
    const data = await res.json();
    state.rows = data.rows || [];
    productRows(data.total);
  }
  function filtersSet() {
    return ['market', 'city', 'category', 'brand'].some((k) => form.elements[k] && form.elements[k].value);
  }
  if (form && table) {
    state.filtered = filtersSet();
    table.querySelectorAll('thead button[data-sort]').forEach((btn) => btn.addEventListener('click', (e) => {
      e.preventDefault();
      const key = btn.dataset.sort;
      if (state.sort === key) state.order = state.order === 'asc' ? 'desc' : 'asc';
      else { state.sort = key; state.order = key === 'name' || key === 'brand' ? 'asc' : 'desc'; }
      if (state.rows) productRows(); else sortDOM();
      syncLinks();
      // Filtered rows are the endpoint's top 50 by the sort: ask again.
      if (state.filtered) fetchProducts().catch(() => {});
    }));
    const apply = async (e) => {
      e?.preventDefault();
      state.filtered = filtersSet();
      syncLinks();
      try {
        await fetchProducts();
      } catch (err) {
        // No product endpoint: the form's own GET renders the page filtered.
        location.assign('/dashboard?' + formParams().toString() + '#products-h');
      }
    };
    form.addEventListener('submit', (e) => { if (e.submitter && e.submitter.name === 'by') return; apply(e); });
    form.querySelectorAll('select').forEach((s) => s.addEventListener('change', apply));
    // With filters, the push carries the wrong rows: refresh from the
    // endpoint every few seconds instead.
    setInterval(() => { if (state.filtered && document.visibilityState === 'visible') fetchProducts().catch(() => {}); }, 5000);
  }
  function products(rows) {
    if (!table || state.filtered || !rows) return;
    state.rows = rows;
    productRows();
  }

  // "Query the archive": the SQL is fetched from the table's JSON when
  // the disclosure is first opened (and again if its source changed).
  document.querySelectorAll('details.query').forEach((d) => d.addEventListener('toggle', async () => {
    if (!d.open || d.dataset.loaded === d.dataset.src) return;
    const pres = d.querySelectorAll('pre.sql');
    pres.forEach((p) => { p.textContent = WORDS.loading; });
    try {
      const res = await fetch(d.dataset.src, { headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const q = (await res.json()).query || {};
      pres.forEach((p) => { p.textContent = q[p.dataset.engine] || NONE; });
      d.dataset.loaded = d.dataset.src;
    } catch (err) {
      pres.forEach((p) => { p.textContent = WORDS.failed + ' (' + err.message + ')'; });
    }
  }));

  function render(u) {
    const s = u.snapshot || {};
    if (!isZeroTime(s.at)) skew = parse(s.at) - Date.now();
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
    dims('brand', s.brands || []);
    health(u.health);
    alerts(u.alerts || [], s.at);
    sale(u.sale);
    countdown();
    compare(u.compare);
    audience(u.audience);
    stock(u.stock);
    products(u.products);
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
    setStatus(WORDS.connecting, true);
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
      setStatus(WORDS.live, false);
    });
    source.addEventListener('unavailable', () => {
      byId('notice').hidden = false;
      setStatus(WORDS.unavailable, true);
    });
    source.addEventListener('error', () => {
      setStatus(WORDS.reconnecting, true);
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    });
  }
  setInterval(countdown, 1000);
  setInterval(() => {
    if (lastUpdate && source && source.readyState === EventSource.OPEN && Date.now() - lastUpdate > STALE_AFTER) {
      setStatus(WORDS.noUpdate + age(Date.now() - lastUpdate), true);
    }
  }, 1000);
  connect();
})();
