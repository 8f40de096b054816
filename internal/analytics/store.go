package analytics

import (
	"context"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Resolution is the length of a time bucket.
type Resolution string

// The two bucket lengths. Buckets start on whole UTC minutes and hours.
const (
	Minute Resolution = "minute"
	Hour   Resolution = "hour"
)

// Duration returns the bucket length (0 for an unknown resolution).
func (r Resolution) Duration() time.Duration {
	switch r {
	case Minute:
		return time.Minute
	case Hour:
		return time.Hour
	}
	return 0
}

// Dimension is what a bucket's counters are broken down by.
type Dimension string

// The dimensions. Total has the single member "all"; Market's members are
// market codes ("AE") or "unknown"; City's are city names as sent;
// Product's are product ids; Brand's and Category's are names as sent.
// Product, Brand and Category count only product-level events (views,
// adds, removes and order lines); Total, Market and City count every
// aggregated event.
const (
	Total    Dimension = "total"
	Market   Dimension = "market"
	City     Dimension = "city"
	Product  Dimension = "product"
	Brand    Dimension = "brand"
	Category Dimension = "category"
	// ProductMarket breaks products down by market: its members are
	// ProductMarketMember(market, product), and it counts what Product
	// counts.
	ProductMarket Dimension = "product_market"
	// ProductCity breaks products down by city: its members are
	// ProductCityMember(market, city, product), and it counts only order
	// lines and cancellations (browser events carry no city).
	ProductCity Dimension = "product_city"
)

// Dimensions lists every dimension in a fixed order.
func Dimensions() []Dimension {
	return []Dimension{Total, Market, City, Product, Brand, Category, ProductMarket, ProductCity}
}

// PairSep separates the parts of a ProductMarket or ProductCity member. It
// is a control character, so it occurs in no market, city or product
// (member replaces control characters), and it is not "\x1f", which a
// storage adapter may use to follow a member.
const PairSep = "\x1e"

// ProductMarketMember returns the ProductMarket member of product in market.
func ProductMarketMember(market, product string) string { return market + PairSep + product }

// ProductCityMember returns the ProductCity member of product in city of market.
func ProductCityMember(market, city, product string) string {
	return market + PairSep + city + PairSep + product
}

// SplitMember returns the parts of a ProductMarket or ProductCity member
// (one part for other members).
func SplitMember(member string) []string { return strings.Split(member, PairSep) }

// dimIndex returns d's position in Dimensions, or -1.
func dimIndex(d Dimension) int {
	switch d {
	case Total:
		return 0
	case Market:
		return 1
	case City:
		return 2
	case Product:
		return 3
	case Brand:
		return 4
	case Category:
		return 5
	case ProductMarket:
		return 6
	case ProductCity:
		return 7
	}
	return -1
}

const numDims = 8

// Members used when an event does not say.
const (
	All     = "all"     // the member of Total
	Unknown = "unknown" // a missing market, city, brand or category
)

// Delta is what one event adds to one member of one dimension.
type Delta struct {
	Dim      Dimension
	Member   string
	Counters Counters
}

// Batch is everything one event changes, built by the Aggregator and
// committed to a HotStore as a unit.
type Batch struct {
	// ID is the event's message id, the key of deduplication.
	ID string
	// Seq is the stream sequence the event was delivered with (0 if none).
	Seq uint64
	// Minute is the start of the event-time minute bucket the deltas go
	// to; zero when the event is too late for minute buckets and goes to
	// its hour bucket only.
	Minute time.Time
	// Hour is the start of the event-time hour bucket the deltas go to.
	Hour time.Time
	// Watermark is the newest ReceivedAt applied, this event included.
	Watermark time.Time
	// Floors are the retention limits at Watermark: the store may drop
	// anything older (and must not keep it visible to Read after Commit).
	Floors Floors
	Deltas []Delta
	// Visitor is the visitor the event came from: its userId, else its
	// anonymousId ("" when it names neither, and then nothing is added to
	// any sketch). The store adds it to the sketches Visits name, in the
	// same buckets as the deltas and in the same atomic step.
	Visitor string
	Visits  []Visit
}

// Visit names a sketch member the batch's visitor is added to: the
// Visitors sketch of Member of Dim, and the Buyers sketch too when Buyer.
// Sketches are kept only for the dimensions and members ReachMembers lists.
type Visit struct {
	Dim    Dimension
	Member string
	Buyer  bool
}

// ReachDimensions are the dimensions that keep distinct-visitor sketches.
func ReachDimensions() []Dimension { return []Dimension{Total, Market} }

// ReachMembers returns the members of dim that may have sketches: "all"
// for Total, the six market codes and "unknown" for Market, none for the
// other dimensions. A store that cannot list the members it holds (Redis)
// reads these.
func ReachMembers(dim Dimension) []string {
	switch dim {
	case Total:
		return []string{All}
	case Market:
		out := make([]string, 0, 7)
		for _, m := range souq.Markets() {
			out = append(out, string(m.Code))
		}
		return append(out, Unknown)
	}
	return nil
}

// Reach is the estimated number of distinct visitors, and of distinct
// buyers (visitors with an "Order Completed"), of a member over some
// buckets. Both are HyperLogLog estimates (standard error about 0.8%; a
// dense in-process sketch is within about 1.5% from a hundred visitors
// up): Buyers may exceed Visitors by a little.
type Reach struct {
	Visitors int64 `json:"visitors"`
	Buyers   int64 `json:"buyers"`
}

// Floors are the oldest bucket starts retained.
type Floors struct {
	Minutes time.Time // minute buckets starting before are dropped
	Hours   time.Time // hour buckets starting before are dropped
}

// Range selects cells to read: the buckets of resolution Res starting in
// [From, To) (a zero To means no upper limit), of dimension Dim, of every
// member or only of Member when it is not empty, or only of Members when
// Member is empty and Members is not (Read only: a store reads them all
// in one request per bucket; Reach ignores Members).
type Range struct {
	Res      Resolution
	Dim      Dimension
	Member   string
	Members  []string
	From, To time.Time
}

// Progress describes what a store has applied.
type Progress struct {
	Watermark  time.Time `json:"watermark"`    // newest ReceivedAt applied
	MaxSeq     uint64    `json:"max_seq"`      // highest stream sequence applied
	Applied    uint64    `json:"applied"`      // batches committed since the store was created
	Duplicates uint64    `json:"duplicates"`   // batches refused as already applied
	IDs        int       `json:"retained_ids"` // message ids held for deduplication
}

// HotStore holds the aggregates: counters per resolution × bucket ×
// dimension × member, the message ids already applied, and the progress.
// The in-process MemStore is the default; a Redis adapter implements the
// same contract (see the package documentation for the key layout), and
// package hotstoretest checks any implementation.
//
// Any number of Aggregators (one per processor replica) may write to a
// store and any number of readers read it at the same time: a store
// shared between processes (Redis) deduplicates across them, so an event
// delivered to two replicas is counted once.
type HotStore interface {
	// Commit applies the batch atomically: it adds every delta to the
	// minute bucket b.Minute (unless zero) and to the hour bucket b.Hour,
	// records b.ID as applied, and raises the progress — or, when b.ID
	// was already applied and is still retained, changes nothing and
	// reports applied false. Message ids are retained with the bucket
	// they were applied to: with the minute bucket, or with the hour
	// bucket for a batch without one. Commit drops buckets and ids older
	// than b.Floors. It must not keep b or its Deltas after it returns.
	Commit(ctx context.Context, b *Batch) (applied bool, err error)
	// CommitMany commits each batch of bs as Commit would, in order, and
	// reports for each whether it was applied. Each batch is atomic on
	// its own; a store may send them all in one round trip. When err is
	// not nil, any of them may have been applied: the caller commits them
	// again, and deduplication makes that harmless.
	CommitMany(ctx context.Context, bs []*Batch) (applied []bool, err error)
	// Read calls fn for every cell in r, in order of bucket start (members
	// in no particular order). c is valid only during the call and must
	// not be modified; fn must not call the store.
	Read(ctx context.Context, r Range, fn func(start time.Time, member string, c *Counters)) error
	// Progress reports what has been applied.
	Progress(ctx context.Context) (Progress, error)
	// Reach returns the distinct visitors and buyers of each member of
	// the ranges' dimension (or of their Member alone) over the union of
	// every bucket of every range of rs: the ranges may mix resolutions
	// (whole hours from hour buckets, the rest from minute buckets), and
	// a visitor seen in several buckets counts once. Every range must
	// name the same dimension and member, one of ReachDimensions; members
	// without visitors are left out. A batch applied twice (a duplicate)
	// changes no estimate.
	Reach(ctx context.Context, rs []Range) (map[string]Reach, error)
	// ReachByBucket calls fn, in order of bucket start, with the distinct
	// visitors and buyers of each member in each bucket of r.
	ReachByBucket(ctx context.Context, r Range, fn func(start time.Time, member string, v Reach)) error
}

// VersionedStore is a HotStore that can say, in one read, which minute
// buckets changed: a Reader made with NewReader over one keeps its sums
// between calls and reads again only those minutes. The Redis store is
// one (a MemStore serves its Readers in process).
type VersionedStore interface {
	HotStore
	// MinuteVersions returns the version of each minute bucket starting
	// in [from, to) — raised by every Commit that adds to it; absent for
	// a minute no Commit has reached — and the minute floor, below which
	// buckets are dropped (zero when none was set).
	MinuteVersions(ctx context.Context, from, to time.Time) (versions map[int64]uint64, floor time.Time, err error)
}

// CheckReachRanges reports, as an error of kind souq.ErrInvalid, ranges
// that a Reach call does not accept: a storage adapter checks its
// arguments with it.
func CheckReachRanges(rs []Range) error {
	for i, r := range rs {
		if r.Res.Duration() == 0 || (r.Dim != Total && r.Dim != Market) {
			return souq.Errorf(souq.ErrInvalid, "reach %q %q: no sketches for that resolution or dimension", string(r.Res), string(r.Dim))
		}
		if i > 0 && (r.Dim != rs[0].Dim || r.Member != rs[0].Member) {
			return souq.Errorf(souq.ErrInvalid, "reach: ranges of different dimensions or members")
		}
	}
	return nil
}

// errBadRange reports a Range with an unknown resolution or dimension.
func errBadRange(r Range) error {
	return souq.Errorf(souq.ErrInvalid, "read %q %q: unknown resolution or dimension", string(r.Res), string(r.Dim))
}
