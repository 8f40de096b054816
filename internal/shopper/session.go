package shopper

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// How shoppers behave. Probabilities are per session unless noted; during
// a flash sale more shoppers hunt the sale's products, buy, and buy more.
const (
	pSearch       = 0.35 // the visit starts with a search
	pCategory     = 0.40 // otherwise, with a category page
	pRetryListing = 0.5  // after a search that found nothing, browse the featured list
	pSaleHunter   = 0.6  // during a sale: the visit is about the sale's products
	pSaleView     = 0.75 // a sale hunter's product view is of a sale product
	pCart         = 0.30 // adds to a cart, having viewed a product in stock
	pCartSale     = 0.45
	pCheckout     = 0.45 // orders, having filled a cart
	pCheckoutSale = 0.60
	pCard         = 0.35 // pays by card; the others pay cash on delivery
	pageSize      = 24
)

// Weights of how many products a shopper views (1 to 5), puts in a cart
// (1 to 3) and how many units of each (1 to 3).
var (
	viewsWeights    = []float64{0.30, 0.25, 0.20, 0.15, 0.10}
	cartSizeWeights = []float64{0.60, 0.30, 0.10}
	unitsWeights    = []float64{0.75, 0.20, 0.05}
)

// Session is one simulated shopper's visit: who they are and where, chosen
// when the session is made; what they do, chosen as Run goes. The load
// generator makes sessions with Simulator.NewSession, may change the
// exported fields, and plays them with Run.
type Session struct {
	Market      souq.Market
	City        string // one of Market.Cities: shipping address and event context
	Lang        souq.Lang
	AnonymousID string

	sim     *Simulator
	context *eventContext
	seen    map[souq.ID]productJSON // product pages seen, for the cart's events
	pending []message
	res     Result
	visit   *visitState // where the visit is between steps (Step)
}

// visitState is what a visit carries from one step to the next: what it
// chose and what it has seen, no more (a load generator holds hundreds of
// thousands of sessions between their steps).
type visitState struct {
	next     stepKind
	ended    bool
	sale     []souq.ID
	hunter   bool
	list     []souq.ID // the listing's product ids
	views    int       // product pages still to open
	product  souq.ID   // the next product page, and its place in the list
	position int
	viewed   []productJSON
	pb       float64 // the chance to order, having filled a cart
	cart     *cartJSON
	toAdd    []productJSON
	added    int
	order    map[string]any
	key      string
	// The waiting room: the place's ticket, when the shopper was sent
	// there, the admission it gave, and how many times it was sent.
	ticket    string
	queueKey  string // the join's Idempotency-Key: the place, on a retry
	queuedAt  time.Time
	admission string
	queues    int
}

// stepKind is a visit's next request.
type stepKind uint8

const (
	stepList       stepKind = iota // the first listing
	stepRetryList                  // the featured list, after a search found nothing
	stepProduct                    // a product page
	stepCart                       // a new cart
	stepAdd                        // a product into the cart
	stepViewCart                   // the cart
	stepOrder                      // the order
	stepOrderAgain                 // the order again, with the same key
	stepQueueJoin                  // a place in the waiting room
	stepQueuePoll                  // the place's news
)

// Result is what one session did.
type Result struct {
	PageViews  int     `json:"page_views"`
	Searches   int     `json:"searches"`
	Adds       int     `json:"adds"`
	Checkouts  int     `json:"checkouts"`
	OrderID    souq.ID `json:"order_id,omitempty"` // the order placed, if any
	OutOfStock int     `json:"out_of_stock"`
	Errors     int     `json:"errors"`
	// Queued: checkout sent the shopper to a protected sale's waiting
	// room; QueueWait is how long the shopper waited there (until
	// admitted, told "sold out", or giving up), SoldOutInQueue whether the
	// wait ended with "sold out".
	Queued         bool          `json:"queued,omitempty"`
	QueueWait      time.Duration `json:"queue_wait,omitempty"`
	SoldOutInQueue bool          `json:"sold_out_in_queue,omitempty"`
}

// NewSession draws a shopper: a market by its share of shoppers and the
// hour there (see pickMarket), a city of that market (big cities more
// often), the language they browse in, and a fresh anonymousId.
func (s *Simulator) NewSession(rng *rand.Rand) *Session {
	m := souq.MustMarket(pickMarket(rng.Float64(), s.now()))
	lang := souq.English
	if rng.Float64() < arabicShare[m.Code] {
		lang = souq.Arabic
	}
	return &Session{Market: m, City: pickCity(rng, m), Lang: lang, AnonymousID: newAnonymousID(), sim: s}
}

// Run plays the visit with choices drawn from rng:
//
//  1. a product list: a search (English or Arabic), a category, or the
//     featured list (GET /api/v1/products), reported as Products Searched
//     and Product List Viewed;
//  2. one to five product pages (GET /api/v1/products/{id}), mostly near
//     the top of the list, or during a flash sale mostly the sale's
//     products (GET /api/v1/sales/current), each a Product Viewed;
//  3. sometimes a cart (POST /api/v1/carts) with one to three of the
//     products seen in stock (POST …/items, Product Added), then the cart
//     (GET /api/v1/carts/{id}, Cart Viewed);
//  4. sometimes an order from the cart (Checkout Started, then POST
//     /api/v1/orders with an Idempotency-Key; sent once more with the same
//     key if the first try got no answer or a 5xx), cash on delivery or a
//     test card token.
//
// A pause drawn from the think time comes before every step. Events go to
// the collector in a batch after each stage. A 409 out-of-stock is counted,
// not a failure. Run returns what the session did and nil when it ran to
// its end, ctx's error when ctx ended it, or the error that cut it short.
// Failed requests are counted in the Simulator's Stats and the Result.
// Run a session once; City must be one of Market.Cities. Run is Step
// called until the visit ends, with its pauses slept on the caller's
// goroutine.
func (sess *Session) Run(ctx context.Context, rng *rand.Rand) (Result, error) {
	for {
		pause, done, err := sess.Step(ctx, rng)
		if done {
			return sess.res, err
		}
		if err := sleep(ctx, pause); err != nil {
			sess.end()
			return sess.res, err
		}
	}
}

// Step plays the visit's next step (one request, or a few when a stage
// ends: its events), and returns the pause the shopper takes before the
// next one, or done with the visit's outcome as Run returns it. The
// caller waits the pause (or not: a load generator schedules it) and
// calls Step again; a visit's steps must not run at once.
func (sess *Session) Step(ctx context.Context, rng *rand.Rand) (pause time.Duration, done bool, err error) {
	v := sess.visit
	if v == nil {
		v = sess.begin()
	}
	pause, done, err = sess.step(ctx, rng, v)
	if ctx.Err() != nil {
		sess.end()
		return 0, true, ctx.Err()
	}
	if done {
		sess.flush(ctx)
		sess.end()
	}
	return pause, done, err
}

// Result is what the session has done so far.
func (sess *Session) Result() Result { return sess.res }

// begin starts the visit.
func (sess *Session) begin() *visitState {
	s := sess.sim
	s.stats.sessions.Add(1)
	s.stats.active.Add(1)
	sess.context = &eventContext{
		Market: sess.Market.Code, City: sess.City, Locale: string(sess.Lang) + "-" + string(sess.Market.Code),
		Timezone: timezoneName[sess.Market.Code], UserAgent: userAgent, Library: library{Name: "souq-shopper", Version: "1"},
	}
	sess.seen = map[souq.ID]productJSON{}
	sess.visit = &visitState{}
	return sess.visit
}

// end ends the visit, once.
func (sess *Session) end() {
	if sess.visit != nil && !sess.visit.ended {
		sess.visit.ended = true
		sess.sim.stats.active.Add(-1)
		sess.seen, sess.visit.viewed, sess.visit.toAdd = nil, nil, nil
	}
}

// step does v's next request and chooses what follows it; the draws from
// rng come in the order the visit's choices are made.
func (sess *Session) step(ctx context.Context, rng *rand.Rand, v *visitState) (time.Duration, bool, error) {
	s := sess.sim
	switch v.next {
	case stepList:
		v.sale = s.saleProducts(ctx, sess.Market.Code)
		v.hunter = len(v.sale) > 0 && rng.Float64() < pSaleHunter
		list, retry, err := sess.browse(ctx, rng)
		if err != nil {
			return 0, true, err
		}
		if retry {
			v.next = stepRetryList
			return sess.think(rng, 1), false, nil
		}
		v.list = list
		v.views = 1 + pickIndex(rng, viewsWeights)
		return sess.nextView(ctx, rng, v)
	case stepRetryList:
		list, err := sess.list(ctx, url.Values{"market": {string(sess.Market.Code)}, "page_size": {strconv.Itoa(pageSize)}}, "featured", "")
		if err != nil {
			return 0, true, err
		}
		v.list = list
		v.views = 1 + pickIndex(rng, viewsWeights)
		return sess.nextView(ctx, rng, v)
	case stepProduct:
		var p productJSON
		q := url.Values{"market": {string(sess.Market.Code)}}
		err := s.call(ctx, "GET /api/v1/products/{id}", http.MethodGet, "/api/v1/products/"+url.PathEscape(string(v.product))+"?"+q.Encode(), nil, nil, &p)
		if err != nil {
			sess.fail(ctx, err)
		} else {
			count(&s.stats.pageViews, &sess.res.PageViews)
			v.viewed = append(v.viewed, p)
			sess.seen[v.product] = p
			ep := sess.toEventProduct(p)
			ep.Position = v.position
			sess.track(eventProductViewed, viewedProps{eventProduct: ep, Currency: p.Price.Currency, Value: p.Price.major()})
		}
		v.views--
		return sess.nextView(ctx, rng, v)
	case stepCart:
		var cart cartJSON
		if err := s.call(ctx, "POST /api/v1/carts", http.MethodPost, "/api/v1/carts", map[string]any{"market": sess.Market.Code}, nil, &cart); err != nil {
			sess.fail(ctx, err)
			return 0, true, err
		}
		v.cart = &cart
		products := slices.Clone(v.viewed)
		rng.Shuffle(len(products), func(i, j int) { products[i], products[j] = products[j], products[i] })
		v.toAdd, v.viewed = products[:min(len(products), 1+pickIndex(rng, cartSizeWeights))], nil
		return sess.nextAdd(rng, v)
	case stepAdd:
		p := v.toAdd[0]
		v.toAdd = v.toAdd[1:]
		qty := 1 + pickIndex(rng, unitsWeights)
		err := s.call(ctx, "POST /api/v1/carts/{id}/items", http.MethodPost, "/api/v1/carts/"+url.PathEscape(string(v.cart.ID))+"/items",
			map[string]any{"product_id": p.ID, "quantity": qty}, nil, v.cart)
		switch {
		case outOfStock(err):
			count(&s.stats.outOfStock, &sess.res.OutOfStock)
		case err != nil:
			sess.fail(ctx, err)
		default:
			count(&s.stats.adds, &sess.res.Adds)
			v.added++
			ep := sess.toEventProduct(p)
			ep.Quantity = qty
			sess.track(eventProductAdded, addedProps{eventProduct: ep, CartID: v.cart.ID, Currency: p.Price.Currency})
		}
		return sess.nextAdd(rng, v)
	case stepViewCart:
		if err := s.call(ctx, "GET /api/v1/carts/{id}", http.MethodGet, "/api/v1/carts/"+url.PathEscape(string(v.cart.ID)), nil, nil, v.cart); err != nil {
			sess.fail(ctx, err)
			return 0, true, err
		}
		count(&s.stats.pageViews, &sess.res.PageViews)
		sess.track(eventCartViewed, cartProps{CartID: v.cart.ID, Currency: v.cart.Total.Currency, Value: v.cart.Total.major(),
			Products: sess.cartProducts(v.cart)})
		sess.flush(ctx)
		if rng.Float64() >= v.pb {
			return 0, true, nil
		}
		sess.prepareOrder(ctx, rng, v)
		v.next = stepOrder
		return sess.think(rng, 2), false, nil // filling in the form takes longer
	case stepOrder:
		count(&s.stats.checkouts, &sess.res.Checkouts)
		err := sess.placeOrder(ctx, v)
		if queued(err) && v.queues < 2 {
			// A protected sale: queue, then check out with the admission
			// (once more if the admission was refused, as a browser would).
			v.queues++
			v.admission, v.queuedAt = "", time.Time{}
			v.next = stepQueueJoin
			return 0, false, nil
		}
		if err != nil && retryable(err) && ctx.Err() == nil {
			// The order may or may not have been placed: send the same
			// request with the same key, which replays the first answer if
			// it was.
			sess.fail(ctx, err)
			v.next = stepOrderAgain
			return sess.think(rng, 1), false, nil
		}
		return 0, true, sess.ordered(ctx, err)
	case stepOrderAgain:
		return 0, true, sess.ordered(ctx, sess.placeOrder(ctx, v))
	case stepQueueJoin:
		return sess.joinQueue(ctx, v)
	case stepQueuePoll:
		return sess.pollQueue(ctx, v)
	}
	return 0, true, nil
}

// nextView chooses the next product page, or, with none left, ends the
// browsing stage and decides whether to fill a cart.
func (sess *Session) nextView(ctx context.Context, rng *rand.Rand, v *visitState) (time.Duration, bool, error) {
	if v.views > 0 {
		if id, position, ok := sess.nextProduct(rng, v.list, v.sale, v.hunter); ok {
			v.product, v.position, v.next = id, position, stepProduct
			return sess.think(rng, 1), false, nil
		}
	}
	v.list = nil
	sess.flush(ctx)
	inStock := v.viewed[:0]
	for _, p := range v.viewed {
		if p.InStock {
			inStock = append(inStock, p)
		}
	}
	v.viewed = inStock
	pc, pb := pCart, pCheckout
	if len(v.sale) > 0 {
		pc, pb = pCartSale, pCheckoutSale
	}
	v.pb = pb
	if len(inStock) == 0 || rng.Float64() >= pc {
		return 0, true, nil
	}
	v.next = stepCart
	return sess.think(rng, 1), false, nil
}

// nextAdd moves on to the next product to put in the cart, or, with none
// left, to viewing the cart (or the end, when nothing went in).
func (sess *Session) nextAdd(rng *rand.Rand, v *visitState) (time.Duration, bool, error) {
	if len(v.toAdd) > 0 {
		v.next = stepAdd
		return sess.think(rng, 1), false, nil
	}
	if v.added == 0 {
		return 0, true, nil
	}
	v.next = stepViewCart
	return sess.think(rng, 1), false, nil
}

// think draws a think time (times factor), divided by Speed: the pause
// before the next step.
func (sess *Session) think(rng *rand.Rand, factor float64) time.Duration {
	c := sess.sim.cfg
	d := float64(c.ThinkMin) + rng.Float64()*float64(c.ThinkMax-c.ThinkMin)
	return time.Duration(d * factor / c.Speed)
}

// count adds one to a Stats counter and the session's own count.
func count(c interface{ Add(int64) int64 }, n *int) {
	c.Add(1)
	*n++
}

// fail counts a failed request, unless ctx has ended: a request cut short
// by the caller is not a failure of the shop.
func (sess *Session) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	sess.sim.failed(err)
	sess.res.Errors++
}

// browse fetches the product list the visit starts from and reports it;
// retry says the search found nothing and the shopper will look at the
// featured list next.
func (sess *Session) browse(ctx context.Context, rng *rand.Rand) (list []souq.ID, retry bool, err error) {
	q := url.Values{"market": {string(sess.Market.Code)}, "page_size": {strconv.Itoa(pageSize)}}
	listID, category := "featured", ""
	switch x := rng.Float64(); {
	case x < pSearch:
		lang := sess.Lang
		if rng.Float64() < 0.2 { // Arabic speakers search in English too, and the other way round
			lang = otherLang(lang)
		}
		term := pick(rng, searchTerms[lang])
		q.Set("q", term)
		listID = "search"
		count(&sess.sim.stats.searches, &sess.res.Searches)
	case x < pSearch+(1-pSearch)*pCategory:
		category = pick(rng, categories)
		q.Set("category", category)
		listID = "category:" + category
	default:
		if rng.IntN(4) == 0 {
			q.Set("sort", pick(rng, []string{"newest", "price_asc", "price_desc"}))
		}
	}
	page, err := sess.list(ctx, q, listID, category)
	if err != nil {
		return nil, false, err
	}
	if len(page) == 0 && listID == "search" && rng.Float64() < pRetryListing {
		return nil, true, nil
	}
	return page, false, nil
}

func otherLang(l souq.Lang) souq.Lang {
	if l == souq.Arabic {
		return souq.English
	}
	return souq.Arabic
}

// list fetches one product list and queues Products Searched (a search,
// with the result count) and Product List Viewed.
func (sess *Session) list(ctx context.Context, q url.Values, listID, category string) ([]souq.ID, error) {
	var page productPageJSON
	if err := sess.sim.call(ctx, "GET /api/v1/products", http.MethodGet, "/api/v1/products?"+q.Encode(), nil, nil, &page); err != nil {
		sess.fail(ctx, err)
		return nil, err
	}
	if listID == "search" {
		sess.track(eventProductsSearched, searchedProps{Query: q.Get("q"), ResultCount: page.Total})
	}
	count(&sess.sim.stats.pageViews, &sess.res.PageViews)
	props := listProps{ListID: listID, Category: category, Products: make([]eventProduct, 0, len(page.Items))}
	ids := make([]souq.ID, len(page.Items))
	for i, p := range page.Items {
		ep := sess.toEventProduct(p)
		ep.Position = i + 1
		props.Products = append(props.Products, ep)
		ids[i] = p.ID
	}
	sess.track(eventProductListViewed, props)
	// Only the ids are kept while the shopper thinks: a load generator
	// holds hundreds of thousands of sessions at once.
	return ids, nil
}

// nextProduct chooses the next product to look at: for a sale hunter
// mostly a sale product, otherwise one from the list, the top of the list
// far more often than the bottom. position is its place in the list (0 for
// a sale product reached from the sale banner).
func (sess *Session) nextProduct(rng *rand.Rand, list, sale []souq.ID, hunter bool) (id souq.ID, position int, ok bool) {
	for range 8 {
		if hunter && (len(list) == 0 || rng.Float64() < pSaleView) {
			id = pick(rng, sale)
			position = 0
		} else if len(list) > 0 {
			i := min(int(rng.ExpFloat64()*6), len(list)-1)
			id, position = list[i], i+1
		} else {
			return "", 0, false
		}
		if _, seen := sess.seen[id]; !seen {
			return id, position, true
		}
	}
	return "", 0, false
}

// cartProducts describes the cart's lines for an event, with the details
// the shopper saw on the product pages and the cart's prices.
func (sess *Session) cartProducts(cart *cartJSON) []eventProduct {
	out := make([]eventProduct, 0, len(cart.Lines))
	for _, l := range cart.Lines {
		ep := eventProduct{ProductID: string(l.ProductID)}
		if p, ok := sess.seen[l.ProductID]; ok {
			ep = sess.toEventProduct(p)
		}
		ep.Price, ep.Quantity = l.UnitPrice.major(), l.Quantity
		out = append(out, ep)
	}
	return out
}

// prepareOrder reports Checkout Started and fills in the form: the
// shopper's details, the payment and the request's Idempotency-Key.
func (sess *Session) prepareOrder(ctx context.Context, rng *rand.Rand, v *visitState) {
	cart := v.cart
	sess.track(eventCheckoutStarted, checkoutProps{Currency: cart.Total.Currency, Value: cart.Total.major(),
		Revenue: moneyJSON{Amount: cart.Total.Amount - cart.VAT.Amount, Exponent: cart.Total.Exponent}.major(),
		Tax:     cart.VAT.major(), Products: sess.cartProducts(cart)})
	sess.flush(ctx)

	name := customerName(rng, sess.Market)
	payment := map[string]any{"method": souq.PayCashOnDelivery}
	if rng.Float64() < pCard && !sess.sim.cfg.CashOnly {
		payment = map[string]any{"method": souq.PayCard, "token": "tok_ok"}
	}
	v.order = map[string]any{
		"market":   sess.Market.Code,
		"cart_id":  cart.ID,
		"customer": map[string]any{"name": name, "email": emailFor(rng, name), "phone": phoneNumber(rng, sess.Market)},
		"shipping_address": map[string]any{"line1": addressLine(rng, sess.Market), "area": areaIn(rng, sess.City),
			"city": sess.City, "country": sess.Market.Code},
		"payment": payment,
		// "Order Completed" joins the visit: the server's event carries
		// the anonymousId the session's own events have.
		"context": map[string]any{"anonymous_id": sess.AnonymousID},
	}
	v.key = newIdempotencyKey()
}

// placeOrder sends the order.
func (sess *Session) placeOrder(ctx context.Context, v *visitState) error {
	var placed orderJSON
	h := http.Header{"Idempotency-Key": {v.key}}
	if v.admission != "" {
		h.Set("Souq-Admission", v.admission)
	}
	err := sess.sim.call(ctx, "POST /api/v1/orders", http.MethodPost, "/api/v1/orders", v.order, h, &placed)
	if err == nil {
		sess.res.OrderID = placed.ID
	}
	return err
}

// ordered counts the order's outcome: placed, out of stock (a normal
// answer in a sale) or failed.
func (sess *Session) ordered(ctx context.Context, err error) error {
	switch {
	case outOfStock(err):
		count(&sess.sim.stats.outOfStock, &sess.res.OutOfStock)
		return nil
	case err != nil:
		sess.fail(ctx, err)
		return err
	}
	sess.sim.stats.orders.Add(1)
	return nil
}
