package httpapi

import (
	"time"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/media"
	"github.com/souq-commerce/souq/internal/souq"
)

// moneyJSON is an amount in integer minor units with its currency and the
// currency's exponent, plus ready-made display strings.
type moneyJSON struct {
	Amount   int64          `json:"amount"`
	Currency souq.Currency  `json:"currency"`
	Exponent int            `json:"exponent"`
	Display  souq.Localized `json:"display"`
}

func money(m souq.Money) moneyJSON {
	return moneyJSON{Amount: m.Amount, Currency: m.Currency, Exponent: m.Currency.Exponent(),
		Display: souq.Localized{EN: m.Format(souq.English), AR: m.Format(souq.Arabic)}}
}

type productJSON struct {
	ID           souq.ID         `json:"id"`
	SKU          string          `json:"sku"`
	Slug         string          `json:"slug"`
	Brand        string          `json:"brand"`
	Category     string          `json:"category"`
	CategoryName souq.Localized  `json:"category_name"`
	Name         souq.Localized  `json:"name"`
	Description  souq.Localized  `json:"description"`
	Image        string          `json:"image"`
	Market       souq.MarketCode `json:"market"`
	Price        moneyJSON       `json:"price"`
	RegularPrice moneyJSON       `json:"regular_price"`
	OnSale       bool            `json:"on_sale"`
	SaleEndsAt   *time.Time      `json:"sale_ends_at,omitempty"`
	VATIncluded  moneyJSON       `json:"vat_included"`
	Stock        int             `json:"stock"`
	InStock      bool            `json:"in_stock"`
	Images       []imageJSON     `json:"images"`
}

// imageJSON is a product photo: its largest rendition and every width.
type imageJSON struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	SrcSet string `json:"srcset"`
}

func imageViews(images []souq.Image) []imageJSON {
	out := make([]imageJSON, 0, len(images))
	for _, img := range images {
		out = append(out, imageJSON{URL: media.URL(img, img.Width), Width: img.Width, Height: img.Height, SrcSet: media.SrcSet(img)})
	}
	return out
}

func productView(o catalog.Offer, m souq.Market) productJSON {
	v := productJSON{
		ID: o.ID, SKU: o.SKU, Slug: o.Slug, Brand: o.Brand, Category: o.Category,
		CategoryName: catalog.CategoryName(o.Category), Name: o.Name, Description: o.Description, Image: o.Image,
		Market: m.Code, Price: money(o.Price), RegularPrice: money(o.RegularPrice), OnSale: o.OnSale,
		VATIncluded: money(souq.M(souq.VATIncluded(o.Price.Amount, m.VATBasisPoints), m.Currency)),
		Stock:       o.Stock, InStock: o.InStock(), Images: imageViews(o.Images),
	}
	if o.OnSale {
		ends := o.SaleEndsAt
		v.SaleEndsAt = &ends
	}
	return v
}

type cartLineJSON struct {
	ProductID souq.ID        `json:"product_id"`
	SKU       string         `json:"sku,omitempty"`
	Name      souq.Localized `json:"name"`
	Image     string         `json:"image,omitempty"`
	Quantity  int            `json:"quantity"`
	UnitPrice moneyJSON      `json:"unit_price"`
	OnSale    bool           `json:"on_sale"`
	LineTotal moneyJSON      `json:"line_total"`
	VAT       moneyJSON      `json:"vat"`
	Stock     int            `json:"stock"`
	Available bool           `json:"available"`
	Shortfall bool           `json:"shortfall"`
}

type cartJSON struct {
	ID             souq.ID         `json:"id"`
	Market         souq.MarketCode `json:"market"`
	Currency       souq.Currency   `json:"currency"`
	VATBasisPoints int64           `json:"vat_basis_points"`
	Lines          []cartLineJSON  `json:"lines"`
	Items          int             `json:"items"`
	Total          moneyJSON       `json:"total"`
	VAT            moneyJSON       `json:"vat"`
	// DeliveryFee is the delivery fee an order of the cart would pay now
	// (not in Total; cash on delivery may add its own fee).
	DeliveryFee moneyJSON `json:"delivery_fee"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// cartView shows cart v, whose orders would pay fee for delivery.
func cartView(v cart.View, fee int64) cartJSON {
	out := cartJSON{ID: v.ID, Market: v.Market.Code, Currency: v.Market.Currency, VATBasisPoints: v.Market.VATBasisPoints,
		Lines: make([]cartLineJSON, 0, len(v.Lines)), Items: v.Items, Total: money(v.Total), VAT: money(v.VAT),
		DeliveryFee: money(souq.M(fee, v.Market.Currency)), CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
	for _, l := range v.Lines {
		unit := l.Offer.Price
		if !l.Available { // gone, or not sold in this market: no price
			unit = souq.M(0, v.Market.Currency)
		}
		out.Lines = append(out.Lines, cartLineJSON{
			ProductID: l.ProductID, SKU: l.Offer.SKU, Name: l.Offer.Name, Image: l.Offer.Image, Quantity: l.Quantity,
			UnitPrice: money(unit), OnSale: l.Offer.OnSale, LineTotal: money(l.LineTotal), VAT: money(l.VAT),
			Stock: l.Offer.Stock, Available: l.Available, Shortfall: l.Shortfall,
		})
	}
	return out
}

type orderLineJSON struct {
	ProductID      souq.ID        `json:"product_id"`
	SKU            string         `json:"sku"`
	Name           souq.Localized `json:"name"`
	Brand          string         `json:"brand"`
	Category       string         `json:"category"`
	Quantity       int            `json:"quantity"`
	UnitPrice      moneyJSON      `json:"unit_price"`
	OnSale         bool           `json:"on_sale"`
	LineTotal      moneyJSON      `json:"line_total"`
	VAT            moneyJSON      `json:"vat"`
	VATBasisPoints int64          `json:"vat_basis_points"`
}

type orderJSON struct {
	ID              souq.ID          `json:"id"`
	Number          string           `json:"number,omitempty"`
	Language        souq.Lang        `json:"language"`
	Status          souq.OrderStatus `json:"status"`
	Market          souq.MarketCode  `json:"market"`
	Currency        souq.Currency    `json:"currency"`
	Lines           []orderLineJSON  `json:"lines"`
	Total           moneyJSON        `json:"total"`
	VAT             moneyJSON        `json:"vat"`
	DeliveryFee     moneyJSON        `json:"delivery_fee"`
	CODFee          moneyJSON        `json:"cod_fee"`
	Customer        souq.Customer    `json:"customer"`
	ShippingAddress souq.Address     `json:"shipping_address"`
	Payment         souq.Payment     `json:"payment"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
	CompletedAt     *time.Time       `json:"completed_at,omitempty"`
	CancelledAt     *time.Time       `json:"cancelled_at,omitempty"`
	// PaymentAction is the shopper's next step for a card payment still
	// pending, in the responses that start it.
	PaymentAction *checkout.PaymentAction `json:"payment_action,omitempty"`
	// PaymentError says why a card payment could not be started when the
	// order was placed; the order waits for its payment.
	PaymentError string `json:"payment_error,omitempty"`
	// AccessToken is present only in the response that created the order.
	AccessToken string `json:"access_token,omitempty"`
	// StatusURL reads the order with its token; only on creation.
	StatusURL string `json:"status_url,omitempty"`
}

func orderView(o souq.Order) orderJSON {
	out := orderJSON{ID: o.ID, Number: o.Number, Language: o.Language, Status: o.Status, Market: o.Market, Currency: o.Currency,
		Lines: make([]orderLineJSON, 0, len(o.Lines)), Total: money(souq.M(o.Total, o.Currency)), VAT: money(souq.M(o.VAT, o.Currency)),
		DeliveryFee: money(souq.M(o.DeliveryFee, o.Currency)), CODFee: money(souq.M(o.CODFee, o.Currency)),
		Customer: o.Customer, ShippingAddress: o.ShippingAddress, Payment: o.Payment, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		CompletedAt: o.CompletedAt, CancelledAt: o.CancelledAt}
	for _, l := range o.Lines {
		out.Lines = append(out.Lines, orderLineJSON{
			ProductID: l.ProductID, SKU: l.SKU, Name: l.Name, Brand: l.Brand, Category: l.Category, Quantity: l.Quantity,
			UnitPrice: money(souq.M(l.UnitPrice, o.Currency)), OnSale: l.OnSale, LineTotal: money(souq.M(l.LineTotal, o.Currency)),
			VAT: money(souq.M(l.VAT, o.Currency)), VATBasisPoints: l.VATBasisPoints,
		})
	}
	return out
}

type saleJSON struct {
	ID       souq.ID        `json:"id"`
	Name     souq.Localized `json:"name"`
	StartsAt time.Time      `json:"starts_at"`
	EndsAt   time.Time      `json:"ends_at"`
	Active   bool           `json:"active"`
	// Protected: checkout is behind the waiting room while it runs.
	Protected bool                                  `json:"protected"`
	Products  int                                   `json:"products"`
	Prices    map[souq.ID]map[souq.MarketCode]int64 `json:"prices,omitempty"`
	// Units offered per product, for the sell-through.
	Units map[souq.ID]int `json:"units,omitempty"`
}

// saleProductJSON is a product of the current sale in one market.
type saleProductJSON struct {
	productJSON
	SalePrice       moneyJSON `json:"sale_price"`
	Saving          moneyJSON `json:"saving"`
	DiscountPercent int       `json:"discount_percent"`
	Units           *int      `json:"units"`        // null: not recorded
	SoldPercent     *int      `json:"sold_percent"` // null: not known
}

func saleProductView(it catalog.SaleOffer, m souq.Market) saleProductJSON {
	v := saleProductJSON{productJSON: productView(it.Offer, m), SalePrice: money(it.SalePrice), Saving: money(it.Saving),
		DiscountPercent: it.DiscountPercent}
	if it.Units > 0 {
		v.Units = &it.Units
	}
	if it.SoldPercent >= 0 {
		v.SoldPercent = &it.SoldPercent
	}
	return v
}

func saleView(s souq.Sale, now time.Time, withPrices bool) saleJSON {
	v := saleJSON{ID: s.ID, Name: s.Name, StartsAt: s.StartsAt, EndsAt: s.EndsAt, Active: s.ActiveAt(now), Protected: s.Protected, Products: len(s.Prices)}
	if withPrices {
		v.Prices, v.Units = s.Prices, s.Units
	}
	return v
}

// productPageJSON is one page of a product listing.
type productPageJSON struct {
	Items      []productJSON `json:"items"`
	Total      int           `json:"total"`
	TotalExact bool          `json:"total_exact"`
	Page       int           `json:"page"`
	PageSize   int           `json:"page_size"`
	NextCursor *string       `json:"next_cursor"` // null on the last page
}

type listJSON[T any] struct {
	Items    []T `json:"items"`
	Total    int `json:"total"`
	Page     int `json:"page"`
	PageSize int `json:"page_size"`
}
