// Package audit reconciles the hops an event travels for a time range and
// reports, by id, what is missing, duplicated or extra at each one:
//
//	orders → outbox            every order completed in the range (placed cash on
//	                           delivery, or its card payment confirmed) has
//	                           exactly one "Order Completed" outbox row, every
//	                           completed order cancelled in the range one "Order
//	                           Cancelled" row, every payment refunded in the range
//	                           one "Order Refunded" row, and every order-event row
//	                           in the range has its order; an order released
//	                           unpaid has none
//	outbox → stream            every published outbox event is in the stream
//	                           exactly once; an unpublished one is pending (a
//	                           warning) within the grace period and stalled (a
//	                           difference) after it; no event id is held twice
//	                           by the stream; no order event in the stream lacks
//	                           its outbox row
//	stream → archive           every stream message whose event time is in the
//	                           range is archived exactly once (matched by stream
//	                           sequence and event id), every archived record is
//	                           in the stream, every committed file matches its
//	                           manifest; a message past the archiver's last
//	                           committed batch is pending within the grace
//	                           period and stalled after it
//	archive → aggregates       the aggregates recomputed from the archived
//	                           records equal those recomputed from the stream
//	                           messages they should hold (analytics.Recompute,
//	                           compared cell by cell)
//	stream → live aggregates   optional: the dashboard snapshot a running
//	                           server reports (GET /api/v1/analytics/snapshot)
//	                           equals the snapshot recomputed from the stream
//	                           up to the snapshot's max_seq, at the same instant
//
// Ranges are half-open, [from, to), and are matched on the order's time of
// completion, cancellation or refund, the outbox row's created time and
// the event time (souq.Event.Timestamp), which checkout sets to the same
// instant, truncated to the microsecond as the database and the archive
// keep it.
//
// What happened before the stream's retention cannot be checked against
// the stream: outbox events published before the oldest message it holds
// and archived records below its first sequence are counted as expired (a
// warning), not as differences.
//
// On a running system, Run reads one snapshot of the database, then the
// live snapshot, then the stream up to its last message, then the archive:
// archived records of sequences stored after the stream was read are not
// checked (a warning), and an outbox row published between the reads shows
// as unpublished though in the stream.
//
// Run reads everything it compares into memory (the whole stream, the
// range's orders, outbox rows and archive records) and recomputes the
// aggregates two or three times: it is an operator's tool for a range of
// hours or days, not something to run on every request.
package audit
