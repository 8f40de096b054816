// Package collector owns Souq's behaviour-event intake: an HTTP tracking API
// compatible with Segment's (and RudderStack's), so existing analytics SDKs
// send to Souq unchanged. It serves POST /v1/batch, /v1/track, /v1/page and
// /v1/identify (and /v1/b, /v1/t, /v1/p, /v1/i, the paths analytics.js
// uses), validates every message, appends the valid ones to the event
// stream through a Publisher and records the invalid ones, with the reason,
// through DeadLetters. docs/collector.md is the user's guide.
//
// # Authentication
//
// The write key (SOUQ_WRITE_KEY) is the HTTP Basic username with an empty
// password, as Segment's server SDKs send it; a body member "writeKey" is
// accepted when there is no Basic header (analytics.js and the React Native
// SDK send it so). A wrong or missing key answers 401 with WWW-Authenticate:
// Basic realm="souq"; with no key configured the collector is disabled and
// says so.
//
// # Messages
//
// Each message needs a type (track, page or identify; implied by /v1/track,
// /v1/page and /v1/identify), a messageId (1–100 printable ASCII characters,
// the stream's deduplication id) and a userId or anonymousId. A track call's
// event must be one of the Segment e-commerce spec v2 events the collector
// has a schema for (schemas/*.json, JSON Schema 2020-12, compiled once); its
// properties are checked against it: documented properties must have the
// documented types, and other properties are allowed. A schema that uses
// only the keywords the e-commerce schemas use is also compiled into Go
// checks that run over the raw JSON (check.go); they accept and reject
// exactly what the validator does, with the same reasons, and the
// validator judges the events of any other schema. "Order Completed",
// "Order Cancelled" and "Order Refunded" are rejected: the server records
// them from the checkout outbox, so a client copy would count orders twice. context.market, when
// present, must be a Souq market code. Values that read as payment card
// numbers, or security codes, anywhere in a message reject it: Souq never
// stores card data. Unknown top-level members are ignored, as Segment does.
//
// timestamp (or originalTimestamp) is optional; without it the event time is
// receivedAt. With sentAt (the message's or the batch's) it is corrected for
// the device's clock skew as Segment does: timestamp + (receivedAt − sentAt).
// An event time more than MaxFuture after receivedAt or more than MaxAge
// before it is rejected.
//
// # Answers
//
// Validation is per message. Valid messages are appended to the stream
// first; then every rejected one is dead-lettered; only then does the
// collector answer 200 {"success": true, "accepted": N, "rejected": [{index,
// messageId, reason}…]}, so a 2xx means every accepted event is durable and
// every rejected one is recorded. A duplicate messageId within a batch keeps
// the first message and rejects the rest. When no message is valid the
// answer is 400 problem+json listing each reason in "errors". If the stream
// or the dead-letter store fails the answer is 503 with Retry-After and
// nothing is acknowledged; a retry is safe because the stream drops
// duplicate messageIds. Malformed JSON, a missing "batch" array or an empty
// batch is 400; a body over MaxBodyBytes (also after gzip decompression) or
// a batch over MaxBatchEvents messages is 413; a message over MaxEventBytes
// is rejected on its own. A client over its rate (per write key and client
// IP, counted in messages) gets 429 with Retry-After. The rate is kept in
// process, or by Deps.Limiter, shared by the collector's replicas, when
// set; a request the shared limiter cannot decide is held to the
// in-process limit.
//
// # Concurrency
//
// A Collector is safe for concurrent use and starts no goroutines. The rate
// limiter's table is guarded by one mutex; idle buckets are swept inline, at
// most once a minute. Deps.Limiter must be safe for concurrent use.
package collector
