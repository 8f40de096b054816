// Package loadgen is `souq load`: it rehearses a sale's rush against a
// Souq shop by playing simulated Gulf shoppers (package shopper) whose
// sessions arrive on a schedule, and reports what the shop did.
//
// # The model
//
// Sessions arrive as a Poisson process whose rate follows a Profile
// (steady, ramp, spike, sale-start, or stages from a file), whatever the
// shop does: an open model, like shoppers, who do not wait for each other.
// The arrivals and every session's choices follow from the seed, so a run
// can be repeated. At most Users sessions are in progress; an arrival
// beyond that is counted as not started, never silently dropped.
//
// Each request's latency runs to the end of its answer's body and, for a
// session's first request, from the session's scheduled arrival rather
// than from when the generator got round to it, so a generator falling
// behind shows as latency (and as start lag), not as a slower arrival
// rate: no coordinated omission. Latencies go into HDR histograms per step
// (browse, search, product, cart, checkout, events…); a request failed
// when it got no answer, timed out or got a 5xx.
//
// # Goroutines
//
// A session in progress is not a goroutine: between its steps it waits in
// a heap by the time its next step is due (sched.go), so that 400,000
// shoppers thinking cost their state only. Run's goroutines are the
// caller's, which schedules the arrivals; a dispatcher and Workers workers,
// which play the due steps; and one that samples memory and calls Progress
// every second. It returns after all of them have ended.
package loadgen
