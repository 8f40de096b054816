package souq

import "time"

// OrderStatus is where an order is in its life.
type OrderStatus string

// Order statuses. A cash-on-delivery order is placed, and paid at the door.
// A card order waits in pending_payment, its stock held, until the payment
// provider confirms the payment (paid: captured, or authorised for capture
// at dispatch) or the payment fails or times out (cancelled, its stock
// released).
const (
	StatusPendingPayment OrderStatus = "pending_payment"
	StatusPlaced         OrderStatus = "placed"
	StatusPaid           OrderStatus = "paid"
	StatusCancelled      OrderStatus = "cancelled"
)

// PaymentStatus is where a card payment is, as its provider reports it and
// as Souq follows it.
type PaymentStatus string

// Payment statuses.
const (
	PaymentPending       PaymentStatus = "pending"        // waiting for the shopper (the provider's page, 3-D Secure)
	PaymentAuthorized    PaymentStatus = "authorized"     // held on the card, to be captured at dispatch
	PaymentCaptured      PaymentStatus = "captured"       // taken
	PaymentFailed        PaymentStatus = "failed"         // declined: nothing taken
	PaymentCanceled      PaymentStatus = "canceled"       // cancelled before it was taken (expired, or voided)
	PaymentRefundPending PaymentStatus = "refund_pending" // to be refunded: the order was cancelled
	PaymentRefunded      PaymentStatus = "refunded"       // given back
)

// PaymentMethod is how the shopper pays.
type PaymentMethod string

// Payment methods. Cash on delivery is first-class in the Gulf.
const (
	PayCashOnDelivery PaymentMethod = "cod"
	PayCard           PaymentMethod = "card"
)

// Order is a placed order. Amounts are in the market's currency and
// VAT-inclusive; VAT is itemised per line and summed, with the VAT in the
// fees at the market's standard rate.
type Order struct {
	ID ID `json:"id"`
	// Number is the short number shoppers read and say ("SQ-7K4M2Q",
	// NewOrderNumber), unique among orders; empty for orders placed
	// before numbers were given.
	Number string `json:"number,omitempty"`
	// Language is the shopper's language when the order was placed: its
	// e-mails are written in it.
	Language Lang        `json:"language"`
	Status   OrderStatus `json:"status"`
	Market   MarketCode  `json:"market"`
	Currency Currency    `json:"currency"`
	Lines    []OrderLine `json:"lines"`
	// Total is what the shopper pays: the lines, DeliveryFee and CODFee.
	Total int64 `json:"total"`
	// DeliveryFee and CODFee are the delivery and cash-on-delivery fees
	// charged, VAT-inclusive; VAT includes their VAT.
	DeliveryFee     int64     `json:"delivery_fee"`
	CODFee          int64     `json:"cod_fee"`
	VAT             int64     `json:"vat"`
	Customer        Customer  `json:"customer"`
	ShippingAddress Address   `json:"shipping_address"`
	Payment         Payment   `json:"payment"`
	CartID          ID        `json:"cart_id,omitempty"`
	AccessTokenHash string    `json:"-"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	// CompletedAt is when the order was confirmed and its "Order
	// Completed" event written: when placed for cash on delivery, when the
	// payment was confirmed for a card. Nil while payment is pending, and
	// for an order cancelled unpaid.
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	// CancelledAt is when the order was cancelled.
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	// Visitor is who placed it, as analytics knows them: every event of
	// the order carries it. Not shown to clients.
	Visitor Visitor `json:"-"`
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
	// Status is the card payment's state; empty for cash on delivery.
	Status PaymentStatus `json:"status,omitempty"`
	// Capture is "automatic", or "manual" when an authorisation is held
	// and captured at dispatch.
	Capture string `json:"capture,omitempty"`
	// Failure is the provider's reason for a declined payment.
	Failure string `json:"failure,omitempty"`
	// DueAt is when Souq next looks at the payment by itself: while it is
	// pending, when the order's stock is released if still unpaid; while a
	// refund is pending, when it is tried again.
	DueAt *time.Time `json:"due_at,omitempty"`
	// RefundReference is the provider's reference for the refund.
	RefundReference string     `json:"refund_reference,omitempty"`
	RefundedAt      *time.Time `json:"refunded_at,omitempty"`
}
