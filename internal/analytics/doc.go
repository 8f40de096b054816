// Package analytics owns the real-time aggregates of the shop: the rules
// that turn behaviour and purchase events into per-minute and per-hour
// counters per product, brand, category, market and city (and per product
// in each market and city), sketches of the distinct visitors and buyers
// in all and per market, the shopping funnel, the trending products, the
// comparisons with yesterday and last week, the normalisation of money to
// UAE dirhams,
// the hot store that holds the counters (in process here; Redis in its own
// package), and the queries the live dashboard reads. It does no stream I/O:
// the processor feeds Aggregator.Apply from the durable consumer and the
// audit feeds Recompute from the archive.
//
// # Model
//
// Every counted event becomes a Batch of Deltas, one per dimension member it
// touches, each a Counters value (all fields additive). Event-level
// dimensions (Total, Market, City) get one delta per event; product-level
// dimensions (Product, Brand, Category, ProductMarket) get one per product
// of the event; ProductCity gets one per product of an order or a
// cancellation (browser events carry no city). ProductMarket's members are
// "<market>\x1e<product>", ProductCity's "<market>\x1e<city>\x1e<product>"
// (see ProductMarketMember), so the product table can be filtered by
// market and by city.
//
//	event              event level (total, market, city)      product level (product, brand, category)
//	Product Viewed     views +1                               views +1
//	Product Added      add_events +1, add_units +quantity     the same
//	Product Removed    remove_units +quantity                 the same
//	Cart Viewed        cart_views +1                          —
//	Checkout Started   checkouts +1                           —
//	Products Searched  searches +1 (zero_result_searches +1   —
//	                   when result_count is 0)
//	Order Completed    orders +1, units +Σquantity,           per line: orders +1 (once per order),
//	                   revenue.<cur> +total_minor,            units +quantity, revenue.<cur> +price×quantity,
//	                   revenue_aed +ToAED(total_minor)        revenue_aed +ToAED(price×quantity)
//	Order Cancelled    cancellations, cancelled_units, cancelled_revenue.<cur>, cancelled_aed, likewise
//
// Other track names and page/identify calls are not counted. Revenue is the
// VAT-inclusive amount the shopper pays (souq prices are VAT-inclusive). A
// cancellation is counted in the bucket of the cancellation, not subtracted
// from the bucket of the order (which the event does not identify): the
// dashboard shows gross revenue, cancellations, and net = gross −
// cancelled, per period. The market of a browser event is context.market,
// of an order properties.market (else context.market); missing, it is
// "unknown", and a market that is not one of the six is malformed (the
// collector rejects those already). Missing brands, categories and cities
// are "unknown"; browser events carry no city (unless context.city), so
// they count under city "unknown". Names are cleaned rather than rejected:
// control characters become U+FFFD and names are cut to MaxMemberBytes.
//
// The funnel counts events, not shoppers: views → add-to-cart events →
// checkouts started → orders completed, so a rate can exceed 1. Shoppers
// are counted apart, as distinct visitors (Audience, Compare).
//
// # Distinct visitors
//
// A visitor is the event's userId when it has one, else its anonymousId
// ("Order Completed" carries the visitor who placed the order). Every
// counted event but a cancellation (the shop's doing, not a visit) adds
// its visitor to a HyperLogLog sketch of visitors, and an "Order
// Completed" to one of buyers too, of Total and of its Market, in the same
// minute and hour buckets as its counters, committed in the same atomic
// step (Batch.Visitor, Batch.Visits) and dropped with the buckets. A
// duplicate is refused before its visitor is added, and adding a visitor
// twice changes no sketch anyway. Sketches do not add up like counters;
// they merge: HotStore.Reach estimates the union of any buckets (an hour
// of minutes, a day of hours, hours and minutes together), so a visitor
// seen in several minutes counts once. Both stores use precision 14
// (16,384 registers, standard error 0.8%): MemStore github.com/axiomhq/
// hyperloglog (dense sketches: within about 1.5% from a hundred visitors
// up, exact for a handful), Redis its own PFADD/PFCOUNT (sparse, near
// exact below a few thousand), so the two agree within the error, not
// exactly; sketches live in the shared store, so every
// processor replica adds to the same ones. State (Dump) holds counters
// only: estimates from two stores differ within the error, and Recompute's
// equal the live MemStore's exactly (TestRecomputeSameVisitors).
// Conversion is buyers / visitors, at most 1 (two estimates can cross).
//
// Compare sets today so far against the same span yesterday and last
// week, from the hot store where it holds the span, else from a History
// (the archive, with per-hour Tallies that merge), else prorated from an
// hour bucket (marked Approximate), else "none".
//
// Trending ranks products by TrendScore = views + 3 × add-to-cart events +
// 10 × orders over the last 5, 15 and 60 minutes.
//
// # Time, lateness and retention
//
// Buckets are chosen by event time (Timestamp; ReceivedAt when the
// timestamp is missing or more than Config.FutureSkew ahead of it),
// truncated to the UTC minute and hour. The watermark is the newest
// ReceivedAt applied: it is set by Souq's own clock, so a client with a
// wrong clock cannot move it, and it follows the data rather than the wall
// clock, so a processor catching up after an outage, or a recomputation
// from the archive, makes the same decisions the live one did.
//
// Minute buckets are kept for Config.MinuteRetention (3 h) behind the
// watermark, hour buckets for Config.HourRetention (7 days). An event whose
// minute is older than the minute retention is applied to its hour bucket
// only (Stats.HourOnly): a relay that was down for hours still gets its
// orders into today's figures. An event whose hour is older than the hour
// retention is not applied (Stats.TooOld).
//
// # Idempotency
//
// Applying an event twice changes nothing. Its messageId is the key: the
// store keeps the ids of the events in each bucket with the bucket (with
// the minute bucket, or the hour bucket for an hour-only event) and drops
// them with it. A copy of an event has the same timestamps, hence the same
// bucket, so one lookup finds the original. The bound is therefore the
// retention: ids of the events of the last 3 hours of event time, plus the
// rare late events of the last 7 days. MemStore holds an id in about 40
// bytes (measured), so 1,000 events/s for 3 hours holds 10.8 million ids,
// ≈ 430 MB; counters add about as much again (a realistic mix measured
// ≈ 100 bytes an event in all). A shorter MinuteRetention shrinks both.
// A copy arriving after its minute bucket has gone (more than 3 hours after
// newer events) can reach the hour bucket a second time; the stream's own
// deduplication window and acknowledgements make that a copy of a copy.
//
// The highest stream sequence applied is kept too (Progress.MaxSeq), but it
// is not used to skip events: a redelivered message can have a lower
// sequence than one already applied and still be new.
//
// Applied in the same order, the same events give the same aggregates: so
// Recompute(archive) equals the live aggregates (compare Dump results with
// cmp.Diff). In any order they do too, unless an event's lateness decision
// depends on the order, which takes events more than the minute retention
// apart.
//
// # Hot store and the Redis layout
//
// The HotStore interface has six methods: Commit applies a Batch
// atomically (deduplicate, add to both buckets, raise the progress, prune),
// CommitMany commits several in one round trip, Read visits the cells of a
// range, Progress reports the watermark and counts, and Reach and
// ReachByBucket estimate distinct visitors and buyers. MemStore keeps them
// in process; package redisstore keeps them in Redis, shared by every
// processor replica and dashboard, with this layout (default prefix
// souq:an; the braces are a hash tag, so all of a store's keys hash to one
// Redis Cluster slot and one script may touch any of them):
//
//	{souq:an}:m:<start>:<dimension>   hash  field "<member>\x1f<counter>" → integer; h for hour buckets
//	{souq:an}:ids:m:<start>           set   first 96 bits of SHA-256 of each message id applied to the
//	                                        minute bucket; ids:h for the hour buckets of hour-only events
//	{souq:an}:buckets:m, …:buckets:h  zset  bucket starts (Unix seconds), scored by themselves
//	{souq:an}:progress                hash  wm_s, wm_ns, max_seq, applied, duplicates, ids, floor_m, floor_h
//	{souq:an}:m:<start>:v:<dim>:<member>  HyperLogLog  visitors of a Total or Market member; :b: buyers; h for hours
//	{souq:an}:versions:m              hash  minute start → batches applied to it (VersionedStore)
//
// Commit is one Lua script, run atomically by Redis: raise the floors kept
// in the progress hash and, when one advanced, delete the buckets below it
// with their id sets (taking their ids out of the count); ignore a batch
// whose bucket is below the floors; SADD the id hash (0 → a duplicate:
// count it, stop); HINCRBY each non-zero counter (field names from
// CounterFields) in the minute and hour hashes of each dimension; ZADD the
// bucket starts; PFADD the visitor to its sketches (grouped per key over
// the script run: one PFADD per key, not per event); raise the watermark
// (seconds and nanoseconds, so it comes back equal) and max_seq; count the
// batch and its id. Reach is one pipeline of ZRANGEBYSCOREs, then one of a
// PFCOUNT over every bucket's key per member and sketch. CommitMany runs the
// same script once for up to 1,000 batches, in order, summing their
// increments per field before the HINCRBYs. The progress hash and indexes
// are passed in KEYS; the buckets' keys are built in the script (see
// package redisstore on what that means for Redis Cluster). Read is a
// ZRANGEBYSCORE of the index, then one pipeline of an HGETALL per bucket
// (an HMGET of its fields for one member): two round trips, whatever the
// range. Members hold no control characters, so "\x1f" separates member
// and counter. A key gets a TTL of its retention plus a day when it is
// created or grows, counted from Redis's clock — not from the bucket's
// start, which is event time and may be days old while a processor catches
// up — so the keys of a stopped deployment go away; pruning is what keeps
// a live store within its retention.
//
// Measured (docs/benchmarks.md, realistic mix): an id costs Redis 49–61
// bytes (12-byte set members; the set's table grows with it) and a minute
// of counters 1.2 MB at 1,000 events/s, 2.5 MB at 10,000. A day of traffic
// at 1,000 events/s holds ≈ 0.8 GB, at 10,000 events/s ≈ 7 GB, nearly all
// of it the ids of the last 3 hours: a shorter MinuteRetention shrinks it
// in proportion. Redis spends ≈ 45–55 µs of its one thread per event on
// the script (a 2-core VM), ≈ 20,000 events/s a core.
//
// # Concurrency
//
// One consumer goroutine calls Apply (a mutex serialises calls); any number
// of HTTP goroutines call Snapshot, Series, Dump and Stats at the same
// time. MemStore guards its maps with one RWMutex: Commit takes the write
// lock for one event's updates; Read holds the read lock for the range it
// visits and calls back under it. Reader's snapshot cache has its own mutex,
// taken before any store lock. Stats are atomic counters.
package analytics
