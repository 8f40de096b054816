package httpapi

import "net/http"

type route struct {
	pattern string
	handler http.Handler
}

// routes lists the whole HTTP surface. The OpenAPI document must describe
// every /api/v1 route here (a test checks both ways).
// The API's index page is at /api; the site's root belongs to the
// storefront.
func (s *server) routes() []route {
	rs := []route{
		{"GET /livez", handleLive()},
		{"GET /readyz", s.handleReady()},
		{"GET /metrics", s.handleMetrics()},
	}
	if s.Catalog == nil { // a process without the shop: health and metrics only
		return rs
	}
	return append(rs, []route{
		{"GET /api", s.handleIndex()},
		{"GET /api/openapi.json", handleOpenAPI()},

		{"GET /api/v1/markets", s.handleMarkets()},
		{"GET /api/v1/products", s.handleProductList()},
		{"GET /api/v1/products/{id}", s.handleProductGet()},
		{"GET /api/v1/facets", s.handleFacets()},
		{"GET /api/v1/sales/current", s.handleCurrentSale()},
		{"GET /api/v1/sales/current/products", s.handleCurrentSaleProducts()},
		{"GET /api/v1/delivery", s.handleDelivery()},

		{"POST /api/v1/carts", s.handleCartCreate()},
		{"GET /api/v1/carts/{id}", s.handleCartGet()},
		{"PATCH /api/v1/carts/{id}", s.handleCartUpdate()},
		{"POST /api/v1/carts/{id}/items", s.handleCartItemAdd()},
		{"PUT /api/v1/carts/{id}/items/{product_id}", s.handleCartItemSet()},
		{"DELETE /api/v1/carts/{id}/items/{product_id}", s.handleCartItemDelete()},

		{"POST /api/v1/orders", s.handleOrderCreate()},
		{"GET /api/v1/orders/{id}", s.handleOrderGet()},
		{"POST /api/v1/orders/{id}/cancel", s.handleOrderCancel()},
		{"POST /api/v1/orders/{id}/payment", s.handleOrderPay()},
		{"POST /api/v1/payments/webhook", s.handlePaymentWebhook()},

		{"GET /api/v1/queue", s.handleQueueSummary()},
		{"POST /api/v1/queue", s.handleQueueJoin()},
		{"GET /api/v1/queue/draw", s.handleQueueDraw()},
		{"GET /api/v1/queue/{ticket}", s.handleQueueStatus()},

		{"POST /api/v1/admin/products", s.admin(s.handleAdminProductCreate())},
		{"PUT /api/v1/admin/products/{id}", s.admin(s.handleAdminProductUpdate())},
		{"PUT /api/v1/admin/products/{id}/stock", s.admin(s.handleAdminStock())},
		{"POST /api/v1/admin/products/{id}/images", s.admin(s.handleAdminImageAdd())},
		{"DELETE /api/v1/admin/products/{id}/images/{n}", s.admin(s.handleAdminImageDelete())},
		{"GET /api/v1/admin/orders", s.admin(s.handleAdminOrderList())},
		{"GET /api/v1/admin/orders/{id}", s.admin(s.handleAdminOrderGet())},
		{"POST /api/v1/admin/orders/{id}/cancel", s.admin(s.handleAdminOrderCancel())},
		{"POST /api/v1/admin/orders/{id}/capture", s.admin(s.handleAdminOrderCapture())},
		{"GET /api/v1/admin/sales", s.admin(s.handleAdminSaleList())},
		{"POST /api/v1/admin/sales", s.admin(s.handleAdminSaleCreate())},
		{"DELETE /api/v1/admin/sales/{id}", s.admin(s.handleAdminSaleDelete())},
		{"GET /api/v1/admin/delivery", s.admin(s.handleAdminDeliveryList())},
		{"PUT /api/v1/admin/delivery/{market}", s.admin(s.handleAdminDeliveryPut())},
		{"GET /api/v1/admin/webhooks", s.admin(s.handleAdminWebhookList())},
		{"POST /api/v1/admin/webhooks", s.admin(s.handleAdminWebhookCreate())},
		{"GET /api/v1/admin/webhooks/{id}", s.admin(s.handleAdminWebhookGet())},
		{"DELETE /api/v1/admin/webhooks/{id}", s.admin(s.handleAdminWebhookDelete())},
		{"GET /api/v1/admin/webhooks/{id}/deliveries", s.admin(s.handleAdminWebhookDeliveries())},
	}...)
}
