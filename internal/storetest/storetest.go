// Package storetest is the contract suite of Souq's storage seams
// (catalog.Store, cart.Store, checkout.Store, webhook.Store, delivery.Store
// and the outbox relay's reads).
// Every storage adapter runs it unchanged from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return openFresh(t) })
//	}
//
// The suite checks only what the interfaces' documentation promises, so a
// failure here is a broken promise, not a difference in taste between
// engines.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/webhook"
)

// Store is everything the suite exercises: the three area stores, the
// webhook and delivery stores and the outbox relay's two methods.
type Store interface {
	catalog.Store
	cart.Store
	checkout.Store
	webhook.Store
	delivery.Store
	// PendingOutbox returns up to limit unpublished events, oldest first.
	PendingOutbox(ctx context.Context, limit int) ([]souq.OutboxEvent, error)
	// MarkOutboxPublished marks events published; unknown ids are ignored.
	MarkOutboxPublished(ctx context.Context, ids []souq.ID, at time.Time) error
}

// Run runs the contract suite. open must return a new, empty store for each
// subtest and arrange for it to be closed when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"ProductCreateGet", testProductCreateGet},
		{"ProductNotFound", testProductNotFound},
		{"ProductDuplicate", testProductDuplicate},
		{"ProductUpdate", testProductUpdate},
		{"ProductUpdateDuplicate", testProductUpdateDuplicate},
		{"ProductSetStock", testProductSetStock},
		{"ProductStocks", testProductStocks},
		{"LowStock", testLowStock},
		{"ProductsByID", testProductsByID},
		{"ProductImages", testProductImages},
		{"AddProductImage", testAddProductImage},
		{"ListFilters", testListFilters},
		{"ListSearch", testListSearch},
		{"ListPagination", testListPagination},
		{"ListSort", testListSort},
		{"ProductCounts", testProductCounts},
		{"ListKeyset", testListKeyset},
		{"ListLargeSearch", testListLargeSearch},
		{"CreateProductsAtomic", testCreateProductsAtomic},
		{"Sales", testSales},
		{"SaleDelete", testSaleDelete},
		{"SaleOverlap", testSaleOverlap},
		{"CartItems", testCartItems},
		{"CartMarket", testCartMarket},
		{"CartNotFound", testCartNotFound},
		{"CartDeleteIdle", testCartDeleteIdle},
		{"OrderCreate", testOrderCreate},
		{"OrderNumber", testOrderNumber},
		{"OrderNumberInBatch", testOrderNumberInBatch},
		{"OrderOutOfStock", testOrderOutOfStock},
		{"OrderUnknownProduct", testOrderUnknownProduct},
		{"OrderConcurrentStock", testOrderConcurrentStock},
		{"OrderCancel", testOrderCancel},
		{"OrderCancelEventError", testOrderCancelEventError},
		{"OrderPendingPayment", testOrderPendingPayment},
		{"OrderUpdateSerialised", testOrderUpdateSerialised},
		{"OrderUpdateMany", testOrderUpdateMany},
		{"PaymentEvents", testPaymentEvents},
		{"OrderNotFound", testOrderNotFound},
		{"OrderList", testOrderList},
		{"KeyClaim", testKeyClaim},
		{"KeyStale", testKeyStale},
		{"KeyRelease", testKeyRelease},
		{"KeyReleaseClaims", testKeyReleaseClaims},
		{"KeyDeleteBefore", testKeyDeleteBefore},
		{"KeyNanoseconds", testKeyNanoseconds},
		{"Outbox", testOutbox},
		{"WebhookEndpoints", testWebhookEndpoints},
		{"WebhookEnqueue", testWebhookEnqueue},
		{"WebhookClaim", testWebhookClaim},
		{"WebhookClaimConcurrent", testWebhookClaimConcurrent},
		{"WebhookStockLow", testWebhookStockLow},
		{"WebhookLog", testWebhookLog},
		{"DeliverySettings", testDeliverySettings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// t0 is the suite's reference time, with microsecond precision (the
// precision every adapter must keep).
var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// diffOpts treat nil and empty slices and maps alike: the contract does not
// say which an empty list is.
var diffOpts = []cmp.Option{cmpopts.EquateEmpty()}

// checkDiff fails the test when got differs from want.
func checkDiff(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got, diffOpts...); d != "" {
		t.Errorf("%s: got differs from want (-want +got):\n%s", what, d)
	}
}

// checkKind fails the test unless err is of the given kind.
func checkKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: got error %v, want %v", what, err, kind)
	}
}

// must fails the test at once when err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want nil", what, err)
	}
}

// newProduct returns a valid product with the given id and SKU, sold in AE
// and SA, with 10 in stock, created at t0.
func newProduct(id, sku string) souq.Product {
	return souq.Product{
		ID:          souq.ID(id),
		SKU:         sku,
		Slug:        strings.ToLower(sku),
		Brand:       "Cosrx",
		Category:    "skincare",
		Name:        souq.Localized{EN: "Product " + sku, AR: "منتج " + sku},
		Description: souq.Localized{EN: "Description of " + sku, AR: "وصف " + sku},
		Image:       "/images/" + strings.ToLower(sku) + ".webp",
		Prices:      map[souq.MarketCode]int64{souq.AE: 5000, souq.SA: 5200},
		Stock:       10,
		CreatedAt:   t0,
		UpdatedAt:   t0,
	}
}

// createProducts stores products with their search text, failing at once on
// an error: one by one when they are few, else in one CreateProducts.
func createProducts(t *testing.T, s Store, products ...souq.Product) {
	t.Helper()
	if len(products) <= 10 {
		for _, p := range products {
			must(t, fmt.Sprintf("CreateProduct(%s)", p.ID), s.CreateProduct(t.Context(), p, catalog.SearchText(p)))
		}
		return
	}
	nps := make([]catalog.NewProduct, len(products))
	for i, p := range products {
		nps[i] = catalog.NewProduct{Product: p, SearchText: catalog.SearchText(p)}
	}
	must(t, fmt.Sprintf("CreateProducts(%d)", len(products)), s.CreateProducts(t.Context(), nps))
}

// getProduct reads a product, failing at once on an error.
func getProduct(t *testing.T, s Store, id souq.ID) souq.Product {
	t.Helper()
	p, err := s.Product(t.Context(), id)
	must(t, fmt.Sprintf("Product(%s)", id), err)
	return p
}

// checkStock fails the test unless the product has want units in stock.
func checkStock(t *testing.T, s Store, id souq.ID, want int) {
	t.Helper()
	if got := getProduct(t, s, id).Stock; got != want {
		t.Errorf("stock of %s: got %d, want %d", id, got, want)
	}
}

// ids returns the products' ids in order.
func ids(products []souq.Product) []souq.ID {
	out := make([]souq.ID, len(products))
	for i, p := range products {
		out[i] = p.ID
	}
	return out
}
