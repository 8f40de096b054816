// Package storefront owns the shopper-facing web site: server-rendered
// pages in Arabic and English under /ar/ and /en/ (home, category, search,
// product, cart, checkout, order status and the return from the card
// payment provider's page; orderpage.go tells the card flow), the product
// images generated as SVG, the fingerprinted and precompressed style sheet
// and scripts, and the first-party tracking script's configuration. It calls the catalog,
// cart and checkout services directly, not the JSON API.
//
// Every purchase step works without JavaScript: plain forms, POST → 303 →
// GET, each POST checked against a per-session CSRF token (a random value
// in the csrf cookie, repeated in a hidden field, compared in constant
// time). Texts come from the i18n message catalog. docs/storefront.md is
// the guide.
//
// A Storefront is safe for concurrent use and starts no goroutines; its
// templates and assets are built once by New and read-only after.
package storefront
