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
}

// Result is what one session did.
type Result struct {
	PageViews  int     `json:"page_views"`
	Searches   int     `json:"searches"`
	Adds       int     `json:"adds"`
	Checkouts  int     `json:"checkouts"`
	OrderID    souq.ID `json:"order_id,omitempty"` // the order placed, if any
	OutOfStock int     `json:"out_of_stock"`
	Errors     int     `json:"errors"`
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
// Run a session once; City must be one of Market.Cities.
func (sess *Session) Run(ctx context.Context, rng *rand.Rand) (Result, error) {
	s := sess.sim
	s.stats.sessions.Add(1)
	s.stats.active.Add(1)
	defer s.stats.active.Add(-1)
	sess.context = &eventContext{
		Market: sess.Market.Code, City: sess.City, Locale: string(sess.Lang) + "-" + string(sess.Market.Code),
		Timezone: timezoneName[sess.Market.Code], UserAgent: userAgent, Library: library{Name: "souq-shopper", Version: "1"},
	}
	sess.seen = map[souq.ID]productJSON{}
	err := sess.visit(ctx, rng)
	if ctx.Err() != nil {
		return sess.res, ctx.Err()
	}
	sess.flush(ctx)
	return sess.res, err
}

func (sess *Session) visit(ctx context.Context, rng *rand.Rand) error {
	sale := sess.sim.saleProducts(ctx, sess.Market.Code)
	hunter := len(sale) > 0 && rng.Float64() < pSaleHunter
	list, err := sess.browse(ctx, rng)
	if err != nil {
		return err
	}
	viewed, err := sess.viewProducts(ctx, rng, list, sale, hunter)
	sess.flush(ctx)
	if err != nil {
		return err
	}

	inStock := viewed[:0:0]
	for _, p := range viewed {
		if p.InStock {
			inStock = append(inStock, p)
		}
	}
	pc, pb := pCart, pCheckout
	if len(sale) > 0 {
		pc, pb = pCartSale, pCheckoutSale
	}
	if len(inStock) == 0 || rng.Float64() >= pc {
		return nil
	}
	cart, err := sess.fillCart(ctx, rng, inStock)
	sess.flush(ctx)
	if err != nil || cart == nil || rng.Float64() >= pb {
		return err
	}
	return sess.checkout(ctx, rng, cart)
}

// think pauses for a think time (times factor), divided by Speed.
func (sess *Session) think(ctx context.Context, rng *rand.Rand, factor float64) error {
	c := sess.sim.cfg
	d := float64(c.ThinkMin) + rng.Float64()*float64(c.ThinkMax-c.ThinkMin)
	return sleep(ctx, time.Duration(d*factor/c.Speed))
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

// browse fetches the product list the visit starts from and reports it.
func (sess *Session) browse(ctx context.Context, rng *rand.Rand) ([]souq.ID, error) {
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
		sess.track(eventProductsSearched, searchedProps{Query: term})
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
		return nil, err
	}
	if len(page) == 0 && listID == "search" && rng.Float64() < pRetryListing {
		if err := sess.think(ctx, rng, 1); err != nil {
			return nil, err
		}
		return sess.list(ctx, url.Values{"market": {string(sess.Market.Code)}, "page_size": {strconv.Itoa(pageSize)}}, "featured", "")
	}
	return page, nil
}

func otherLang(l souq.Lang) souq.Lang {
	if l == souq.Arabic {
		return souq.English
	}
	return souq.Arabic
}

// list fetches one product list and queues Product List Viewed.
func (sess *Session) list(ctx context.Context, q url.Values, listID, category string) ([]souq.ID, error) {
	var page productPageJSON
	if err := sess.sim.call(ctx, "GET /api/v1/products", http.MethodGet, "/api/v1/products?"+q.Encode(), nil, nil, &page); err != nil {
		sess.fail(ctx, err)
		return nil, err
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

// viewProducts opens one to five product pages and returns the products
// seen. A product that fails to load is skipped; the session ends only
// when ctx does.
func (sess *Session) viewProducts(ctx context.Context, rng *rand.Rand, list, sale []souq.ID, hunter bool) ([]productJSON, error) {
	n := 1 + pickIndex(rng, viewsWeights)
	var viewed []productJSON
	for range n {
		id, position, ok := sess.nextProduct(rng, list, sale, hunter)
		if !ok {
			break
		}
		if err := sess.think(ctx, rng, 1); err != nil {
			return viewed, err
		}
		var p productJSON
		q := url.Values{"market": {string(sess.Market.Code)}}
		err := sess.sim.call(ctx, "GET /api/v1/products/{id}", http.MethodGet, "/api/v1/products/"+url.PathEscape(string(id))+"?"+q.Encode(), nil, nil, &p)
		if err != nil {
			sess.fail(ctx, err)
			if ctx.Err() != nil {
				return viewed, ctx.Err()
			}
			continue
		}
		count(&sess.sim.stats.pageViews, &sess.res.PageViews)
		viewed = append(viewed, p)
		sess.seen[id] = p
		ep := sess.toEventProduct(p)
		ep.Position = position
		sess.track(eventProductViewed, viewedProps{eventProduct: ep, Currency: p.Price.Currency, Value: p.Price.major()})
	}
	return viewed, nil
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

// fillCart opens a cart, adds one to three of the products, and views the
// cart. It returns nil, without error, when nothing could be added.
func (sess *Session) fillCart(ctx context.Context, rng *rand.Rand, products []productJSON) (*cartJSON, error) {
	s := sess.sim
	if err := sess.think(ctx, rng, 1); err != nil {
		return nil, err
	}
	var cart cartJSON
	if err := s.call(ctx, "POST /api/v1/carts", http.MethodPost, "/api/v1/carts", map[string]any{"market": sess.Market.Code}, nil, &cart); err != nil {
		sess.fail(ctx, err)
		return nil, err
	}
	products = slices.Clone(products)
	rng.Shuffle(len(products), func(i, j int) { products[i], products[j] = products[j], products[i] })
	products = products[:min(len(products), 1+pickIndex(rng, cartSizeWeights))]
	added := 0
	for _, p := range products {
		if err := sess.think(ctx, rng, 1); err != nil {
			return nil, err
		}
		qty := 1 + pickIndex(rng, unitsWeights)
		err := s.call(ctx, "POST /api/v1/carts/{id}/items", http.MethodPost, "/api/v1/carts/"+url.PathEscape(string(cart.ID))+"/items",
			map[string]any{"product_id": p.ID, "quantity": qty}, nil, &cart)
		switch {
		case outOfStock(err):
			count(&s.stats.outOfStock, &sess.res.OutOfStock)
			continue
		case err != nil:
			sess.fail(ctx, err)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			continue
		}
		count(&s.stats.adds, &sess.res.Adds)
		added++
		ep := sess.toEventProduct(p)
		ep.Quantity = qty
		sess.track(eventProductAdded, addedProps{eventProduct: ep, CartID: cart.ID, Currency: p.Price.Currency})
	}
	if added == 0 {
		return nil, nil
	}

	if err := sess.think(ctx, rng, 1); err != nil {
		return nil, err
	}
	if err := s.call(ctx, "GET /api/v1/carts/{id}", http.MethodGet, "/api/v1/carts/"+url.PathEscape(string(cart.ID)), nil, nil, &cart); err != nil {
		sess.fail(ctx, err)
		return nil, err
	}
	count(&s.stats.pageViews, &sess.res.PageViews)
	sess.track(eventCartViewed, cartProps{CartID: cart.ID, Currency: cart.Total.Currency, Value: cart.Total.major(),
		Products: sess.cartProducts(&cart)})
	return &cart, nil
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

// checkout reports Checkout Started, fills in the form and orders the
// cart.
func (sess *Session) checkout(ctx context.Context, rng *rand.Rand, cart *cartJSON) error {
	s := sess.sim
	sess.track(eventCheckoutStarted, checkoutProps{Currency: cart.Total.Currency, Value: cart.Total.major(),
		Revenue: moneyJSON{Amount: cart.Total.Amount - cart.VAT.Amount, Exponent: cart.Total.Exponent}.major(),
		Tax:     cart.VAT.major(), Products: sess.cartProducts(cart)})
	sess.flush(ctx)

	name := customerName(rng, sess.Market)
	payment := map[string]any{"method": souq.PayCashOnDelivery}
	if rng.Float64() < pCard && !s.cfg.CashOnly {
		payment = map[string]any{"method": souq.PayCard, "token": "tok_ok"}
	}
	order := map[string]any{
		"market":   sess.Market.Code,
		"cart_id":  cart.ID,
		"customer": map[string]any{"name": name, "email": emailFor(rng, name), "phone": phoneNumber(rng, sess.Market)},
		"shipping_address": map[string]any{"line1": addressLine(rng, sess.Market), "area": areaIn(rng, sess.City),
			"city": sess.City, "country": sess.Market.Code},
		"payment": payment,
	}
	header := http.Header{"Idempotency-Key": {newIdempotencyKey()}}
	if err := sess.think(ctx, rng, 2); err != nil { // filling in the form takes longer
		return err
	}
	count(&s.stats.checkouts, &sess.res.Checkouts)
	var placed orderJSON
	err := s.call(ctx, "POST /api/v1/orders", http.MethodPost, "/api/v1/orders", order, header, &placed)
	if err != nil && retryable(err) && ctx.Err() == nil {
		// The order may or may not have been placed: send the same request
		// with the same key, which replays the first answer if it was.
		sess.fail(ctx, err)
		if err := sess.think(ctx, rng, 1); err != nil {
			return err
		}
		err = s.call(ctx, "POST /api/v1/orders", http.MethodPost, "/api/v1/orders", order, header, &placed)
	}
	switch {
	case outOfStock(err):
		count(&s.stats.outOfStock, &sess.res.OutOfStock)
		return nil
	case err != nil:
		sess.fail(ctx, err)
		return err
	}
	s.stats.orders.Add(1)
	sess.res.OrderID = placed.ID
	return nil
}
