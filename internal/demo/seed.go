package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// Result reports what Seed did.
type Result struct {
	// ProductsCreated is the number of products Seed created: all of
	// Products() on an empty catalogue, else 0.
	ProductsCreated int
	// Sale is the flash sale Seed scheduled, or nil when a sale was already
	// running or scheduled (or there was nothing in stock to put on sale).
	Sale *souq.Sale
}

// Seed loads the demo data through the catalog service, and may be run on
// every start:
//
//   - If the catalogue has no product sold in the UAE, it creates every
//     product of Products(); if it has any, it creates none (it does not
//     top up a partly loaded catalogue).
//   - If no sale is running or scheduled, it schedules FlashSale(now, …)
//     over the catalogue's products, so each restart of a demo gets a fresh
//     sale once the last one has ended.
//
// Replicas starting together on one database may all run it: the products
// are created in one transaction, and a replica that finds them created by
// another meanwhile (ErrConflict) leaves them; the database refuses a second,
// overlapping sale, which the replica that tried takes as done.
func Seed(ctx context.Context, svc *catalog.Service, now time.Time, log *slog.Logger) (Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var res Result
	ae := souq.MustMarket(souq.AE)
	first, err := svc.List(ctx, catalog.ListInput{Market: ae, PageSize: 1})
	if err != nil {
		return res, fmt.Errorf("seed: count products: %w", err)
	}
	if first.Total == 0 {
		created, err := svc.CreateMany(ctx, Products())
		switch {
		case errors.Is(err, souq.ErrConflict) && len(created) == 0:
			log.Info("demo products created meanwhile by another process")
		case err != nil:
			return res, fmt.Errorf("seed products: %w", err)
		default:
			res.ProductsCreated = len(created)
			log.Info("demo products created", "count", res.ProductsCreated)
		}
	} else {
		log.Info("catalogue not empty; demo products not created", "products", first.Total)
	}

	current, ok, err := svc.CurrentSale(ctx)
	if err != nil {
		return res, fmt.Errorf("seed: current sale: %w", err)
	}
	if ok {
		log.Info("sale already running or scheduled; demo flash sale not scheduled", "sale", current.ID)
		return res, nil
	}
	products, err := allProducts(ctx, svc, ae)
	if err != nil {
		return res, err
	}
	in := FlashSale(now, products)
	if len(in.Items) == 0 {
		log.Info("no product in stock; demo flash sale not scheduled")
		return res, nil
	}
	sale, err := svc.ScheduleSale(ctx, in)
	if errors.Is(err, souq.ErrConflict) {
		log.Info("demo flash sale scheduled meanwhile by another process", "detail", err)
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("seed flash sale: %w", err)
	}
	res.Sale = &sale
	log.Info("demo flash sale scheduled", "sale", sale.ID, "products", len(sale.Prices),
		"starts_at", sale.StartsAt, "ends_at", sale.EndsAt)
	return res, nil
}

// allProducts lists every product sold in market m, page by page.
func allProducts(ctx context.Context, svc *catalog.Service, m souq.Market) ([]souq.Product, error) {
	var out []souq.Product
	in := catalog.ListInput{Market: m, PageSize: catalog.MaxPageSize}
	for {
		p, err := svc.List(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("seed: list products (after %d): %w", len(out), err)
		}
		for _, o := range p.Items {
			out = append(out, o.Product)
		}
		if p.NextCursor == "" {
			return out, nil
		}
		in.Page, in.Cursor = 0, p.NextCursor
	}
}
