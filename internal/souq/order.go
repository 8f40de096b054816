package souq

import "time"

// OrderStatus is where an order is in its life.
type OrderStatus string

// Order statuses. A cash-on-delivery order is placed and paid at the door; a
// card order is paid when the provider authorises the token.
const (
	StatusPlaced    OrderStatus = "placed"
	StatusPaid      OrderStatus = "paid"
	StatusCancelled OrderStatus = "cancelled"
)

// PaymentMethod is how the shopper pays.
type PaymentMethod string

// Payment methods. Cash on delivery is first-class in the Gulf.
const (
	PayCashOnDelivery PaymentMethod = "cod"
	PayCard           PaymentMethod = "card"
)

// Order is a placed order. Amounts are in the market's currency and
// VAT-inclusive; VAT is itemised per line and summed.
type Order struct {
	ID              ID          `json:"id"`
	Status          OrderStatus `json:"status"`
	Market          MarketCode  `json:"market"`
	Currency        Currency    `json:"currency"`
	Lines           []OrderLine `json:"lines"`
	Total           int64       `json:"total"`
	VAT             int64       `json:"vat"`
	Customer        Customer    `json:"customer"`
	ShippingAddress Address     `json:"shipping_address"`
	Payment         Payment     `json:"payment"`
	CartID          ID          `json:"cart_id,omitempty"`
	AccessTokenHash string      `json:"-"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

// OrderLine is one product in an order, priced by the server when the order
// was placed.
type OrderLine struct {
	ProductID ID        `json:"product_id"`
	SKU       string    `json:"sku"`
	Name      Localized `json:"name"`
	Brand     string    `json:"brand"`
	Category  string    `json:"category"`
	Quantity  int       `json:"quantity"`
	// UnitPrice is the VAT-inclusive price of one unit.
	UnitPrice int64 `json:"unit_price"`
	// OnSale reports whether UnitPrice came from an active flash sale.
	OnSale bool `json:"on_sale"`
	// LineTotal is UnitPrice × Quantity.
	LineTotal int64 `json:"line_total"`
	// VAT is the VAT contained in LineTotal.
	VAT            int64 `json:"vat"`
	VATBasisPoints int64 `json:"vat_basis_points"`
}

// Customer is a guest shopper's contact details.
type Customer struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"` // optional
	Phone string `json:"phone"`
}

// Address is a delivery address in the Gulf style: there are rarely postal
// codes; area (district) and city (or emirate) locate it.
type Address struct {
	Line1   string     `json:"line1"`
	Line2   string     `json:"line2,omitempty"`
	Area    string     `json:"area"`
	City    string     `json:"city"`
	Country MarketCode `json:"country"`
}

// Payment records how an order is paid. Reference is the provider's
// reference for a card payment; card numbers are never seen or stored.
type Payment struct {
	Method    PaymentMethod `json:"method"`
	Provider  string        `json:"provider,omitempty"`
	Reference string        `json:"reference,omitempty"`
}
