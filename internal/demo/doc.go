// Package demo owns the demo data that `souq serve --demo` loads: the
// catalogue of a Korean-beauty retailer entering the Gulf (products with
// English and Arabic names and descriptions, SKUs, slugs, images and stock),
// the rule that derives each product's VAT-inclusive price in the six
// markets from its UAE shelf price, the demo flash sale, and Seed, which
// loads all of it through the catalog service; and the six markets'
// delivery terms (DeliverySettings, loaded by SeedDelivery through the
// delivery service). It holds no business rules
// of its own: everything it creates goes through catalog.Service and is
// validated there.
package demo
