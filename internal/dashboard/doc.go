// Package dashboard owns the live business dashboard: the page at
// /dashboard (server-rendered HTML, then updated by a small script), the
// Server-Sent Events stream that pushes fresh figures to it, and the JSON
// under /api/v1/analytics/… that carries the same numbers. It reads the
// figures through three small seams it defines itself: Source (the
// analytics snapshot; *analytics.Reader and *analytics.Aggregator satisfy
// it), Health (the pipeline's lag and dead letters) and ProductNames (the
// catalogue's names for the trending products, which carry ids only).
//
// # The war room
//
// Each push also carries the panels a flash sale is run from (panels.go):
// the sale (sale.go), live stock (stock.go), visitors and comparisons
// (figures.go), the product table (products.go) and the alerts
// (alerts.go), read through more seams of its own (deps.go), each
// optional: AudienceSource, CompareSource and ProductSource (the
// analytics reader), Catalog (products, prices, stock and sales from the
// shop's store) and outcomes.Reader (checkout outcomes). The same figures
// are JSON and CSV under /api/v1/analytics/ (endpoints.go, csv.go), each
// with the SQL that computes it from the Parquet archive (queries.go).
// Slow figures are cached by the dashboard's clock (comparisons for a
// minute, the sale schedule and the low-stock lists for 5 seconds), so a
// push costs the same whatever the number of open pages.
// docs/dashboard.md describes the figures, thresholds and endpoints.
//
// # The page and the Content-Security-Policy
//
// Every response of the server carries a strict policy (default-src
// 'self', no inline scripts or styles). The page therefore has no inline
// <script>, no style attributes and no on… handlers: its script and style
// sheet are embedded files served from /dashboard/static/, and the charts
// and funnel bars are SVG whose geometry is set through attributes
// (points, width), not styles. The first snapshot is rendered on the
// server, so the page shows numbers without JavaScript; the script then
// updates elements by id with textContent (never innerHTML with data).
//
// # Pushed updates and goroutine lifetimes
//
// GET /dashboard/events is a Server-Sent Events stream: an event
// "snapshot" every Deps.Interval (default 1 s) whose data is an Update
// (snapshot, pipeline health, product names), the first one at once, and
// a comment line as a heartbeat. One broadcaster goroutine computes an
// Update per tick and hands it to every connected stream, so a hundred
// open dashboards cost one snapshot a second, not a hundred. It is
// started by the first stream to connect and returns at the first tick
// with no stream connected, or when Close is called. Each stream's handler
// returns when its client goes away (request context), when a write fails
// or times out (a client that stops reading is dropped after writeWindow),
// or when Close is called. A slow stream never holds up the broadcaster:
// each stream has a one-frame mailbox and an undelivered frame is replaced
// by the newer one.
//
// http.Server.Shutdown does not cancel the contexts of requests in
// progress, so an open stream would hold a graceful shutdown until its
// timeout; register Close with srv.RegisterOnShutdown to end the streams
// at once. The server's WriteTimeout would end a stream after its first
// 30 seconds: each write moves the connection's write deadline
// (http.ResponseController) writeWindow ahead instead.
//
// # Access
//
// Deps.Authorize decides who may see the page, the stream and the JSON;
// nil leaves them open (the demo on localhost). A browser cannot send an
// Authorization header with a page load or an EventSource, so TokenAuth
// accepts the admin token either as a bearer token (scripts, curl) or as
// a session cookie set by a small login form (POST /dashboard/login). The
// static files are public: they hold no data.
package dashboard
