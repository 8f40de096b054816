package storefront

import (
	"encoding/json"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// trackConfig is the tracking script's configuration, rendered into each
// page as <script type="application/json" id="souq-track"> (data, never
// executed, so the CSP allows it). static/track.js reads it, adds
// messageId, anonymousId, timestamp and context.market to each event and
// sends the events to URL in batches.
type trackConfig struct {
	WriteKey string          `json:"writeKey"`
	URL      string          `json:"url"`
	Market   souq.MarketCode `json:"market"`
	Lang     souq.Lang       `json:"lang"`
	// Consent is the server's reading of the consent cookie (and DNT /
	// Sec-GPC headers); the script also honours navigator.doNotTrack.
	Consent bool `json:"consent"`
	// AnonymousID is the visitor id (the visitor cookie), the script's
	// anonymousId: the server's "Order Completed" carries the same one, so
	// an order joins the visit that made it. Empty without consent.
	AnonymousID string `json:"anonymousId,omitempty"`
	// Page is the page call sent once the page has loaded (the home page's).
	Page *trackPage `json:"page,omitempty"`
	// Events are sent once the page has loaded. Cart events are among them
	// only on the page after the server accepted the change (cartChange), so
	// a refused add-to-cart sends nothing.
	Events []trackEvent `json:"events"`
}

// trackPage is one Segment page call's name and properties.
type trackPage struct {
	Name       string    `json:"name"`
	Properties pageProps `json:"properties"`
}

// pageProps are a page call's properties; the script adds nothing.
type pageProps struct {
	Path  string `json:"path"`
	Title string `json:"title,omitempty"`
}

// trackEvent is one Segment track call's name and properties.
type trackEvent struct {
	Event      string `json:"event"`
	Properties any    `json:"properties"`
}

// trackProduct is a product as the Segment e-commerce spec describes it.
// Names are English, as in the server's own order events, so analytics
// group one product under one name.
type trackProduct struct {
	ProductID string        `json:"product_id"`
	SKU       string        `json:"sku"`
	Name      string        `json:"name"`
	Brand     string        `json:"brand"`
	Category  string        `json:"category"`
	Price     json.Number   `json:"price"`
	Currency  souq.Currency `json:"currency,omitempty"`
	Quantity  int           `json:"quantity,omitempty"`
	Position  int           `json:"position,omitempty"`
}

func productProps(o catalog.Offer) trackProduct {
	return trackProduct{ProductID: string(o.ID), SKU: o.SKU, Name: o.Name.EN, Brand: o.Brand, Category: o.Category,
		Price: json.Number(o.Price.Decimal()), Currency: o.Price.Currency}
}

// listProps are the properties of "Product List Viewed".
type listProps struct {
	ListID   string         `json:"list_id"`
	Category string         `json:"category,omitempty"`
	Products []trackProduct `json:"products"`
}

// searchProps are the properties of "Products Searched".
type searchProps struct {
	Query string `json:"query"`
	// ResultCount is how many products matched (at least that many for a
	// broad search), zero included.
	ResultCount int `json:"result_count"`
}

// cartProps are the properties of "Cart Viewed" and "Checkout Started".
// The cart id is a capability and is never sent.
type cartProps struct {
	Value    json.Number    `json:"value"`
	Currency souq.Currency  `json:"currency"`
	Products []trackProduct `json:"products"`
}

func listEvent(listID, category string, items []catalog.Offer, offset int) trackEvent {
	p := listProps{ListID: listID, Category: category, Products: make([]trackProduct, 0, len(items))}
	for i, o := range items {
		tp := productProps(o)
		tp.Currency, tp.Position = "", offset+i+1
		p.Products = append(p.Products, tp)
	}
	return trackEvent{Event: "Product List Viewed", Properties: p}
}
