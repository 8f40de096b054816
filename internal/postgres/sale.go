package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// CreateSale stores a sale with its prices. A duplicate id is an
// ErrConflict; a sale overlapping a stored one in time is a
// *catalog.SaleOverlapError naming it. The exclusion constraint
// sales_no_overlap refuses the overlap, so sales scheduled at once through
// several replicas cannot overlap either.
func (db *DB) CreateSale(ctx context.Context, s souq.Sale) error {
	err := db.writeTx(ctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM sales WHERE id = $1`, s.ID).Scan(&n); err != nil {
			return fmt.Errorf("create sale %s: %w", s.ID, err)
		}
		if n > 0 {
			return fmt.Errorf("sale %s: %w", s.ID, souq.ErrConflict)
		}
		_, err := tx.Exec(ctx, `INSERT INTO sales (id, name_en, name_ar, starts_at, ends_at, protected, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.ID, s.Name.EN, s.Name.AR, s.StartsAt, s.EndsAt, s.Protected, s.CreatedAt)
		if err != nil {
			return fmt.Errorf("create sale %s: %w", s.ID, err)
		}
		var products, markets []string
		var amounts []int64
		for product, prices := range s.Prices {
			for market, amount := range prices {
				products, markets, amounts = append(products, string(product)), append(markets, string(market)), append(amounts, amount)
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO sale_prices (sale_id, product_id, market, amount)
			SELECT $1, p, m, a FROM unnest($2::text[], $3::text[], $4::bigint[]) AS d(p, m, a)`, s.ID, products, markets, amounts)
		if err != nil {
			return fmt.Errorf("create sale %s: prices: %w", s.ID, err)
		}
		var unitProducts []string
		var units []int64
		for product, n := range s.Units {
			unitProducts, units = append(unitProducts, string(product)), append(units, int64(n))
		}
		_, err = tx.Exec(ctx, `INSERT INTO sale_units (sale_id, product_id, units)
			SELECT $1, p, u FROM unnest($2::text[], $3::bigint[]) AS d(p, u)`, s.ID, unitProducts, units)
		if err != nil {
			return fmt.Errorf("create sale %s: units: %w", s.ID, err)
		}
		return nil
	})
	switch {
	case sqlState(err) == codeExclusionViolation:
		return db.overlapOf(ctx, s, err)
	case sqlState(err) == codeUniqueViolation: // the same id written meanwhile
		return fmt.Errorf("sale %s: %w", s.ID, souq.ErrConflict)
	}
	return err
}

// overlapOf names the stored sale that s overlaps, which the exclusion
// constraint reported as err.
func (db *DB) overlapOf(ctx context.Context, s souq.Sale, err error) error {
	var o souq.Sale
	qerr := db.pool.QueryRow(ctx, `SELECT id, name_en, name_ar, starts_at, ends_at, created_at FROM sales
		WHERE starts_at < $1 AND ends_at > $2 ORDER BY starts_at, id LIMIT 1`, s.EndsAt, s.StartsAt).
		Scan(&o.ID, &o.Name.EN, &o.Name.AR, &o.StartsAt, &o.EndsAt, &o.CreatedAt)
	if qerr != nil { // deleted meanwhile, or unreadable: still an overlap
		return fmt.Errorf("create sale %s: %w: %w", s.ID, souq.ErrConflict, err)
	}
	o.StartsAt, o.EndsAt, o.CreatedAt = o.StartsAt.UTC(), o.EndsAt.UTC(), o.CreatedAt.UTC()
	return &catalog.SaleOverlapError{Other: o}
}

// SalesEndingAfter returns the sales whose end is after t (running or
// scheduled), ordered by start time and then id, with their prices.
func (db *DB) SalesEndingAfter(ctx context.Context, t time.Time) ([]souq.Sale, error) {
	sales := []souq.Sale{}
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, name_en, name_ar, starts_at, ends_at, protected, created_at
			FROM sales WHERE ends_at > $1 ORDER BY starts_at, id`, t)
		if err != nil {
			return fmt.Errorf("list sales: %w", err)
		}
		sales, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (souq.Sale, error) {
			var s souq.Sale
			err := row.Scan(&s.ID, &s.Name.EN, &s.Name.AR, &s.StartsAt, &s.EndsAt, &s.Protected, &s.CreatedAt)
			s.StartsAt, s.EndsAt, s.CreatedAt = s.StartsAt.UTC(), s.EndsAt.UTC(), s.CreatedAt.UTC()
			s.Prices = map[souq.ID]map[souq.MarketCode]int64{}
			return s, err
		})
		if err != nil {
			return fmt.Errorf("list sales: %w", err)
		}
		return loadSalePrices(ctx, tx, sales)
	})
	if err != nil {
		return nil, err
	}
	return sales, nil
}

// loadSalePrices fills in the prices of the given sales.
func loadSalePrices(ctx context.Context, tx pgx.Tx, sales []souq.Sale) error {
	if len(sales) == 0 {
		return nil
	}
	byID := make(map[souq.ID]souq.Sale, len(sales))
	ids := make([]string, len(sales))
	for i, s := range sales {
		byID[s.ID], ids[i] = s, string(s.ID) // Prices is a map, shared with the slice element
	}
	rows, err := tx.Query(ctx, `SELECT sale_id, product_id, market, amount FROM sale_prices WHERE sale_id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("load sale prices: %w", err)
	}
	var (
		sale, product souq.ID
		market        souq.MarketCode
		amount        int64
	)
	_, err = pgx.ForEachRow(rows, []any{&sale, &product, &market, &amount}, func() error {
		prices := byID[sale].Prices
		if prices[product] == nil {
			prices[product] = map[souq.MarketCode]int64{}
		}
		prices[product][market] = amount
		return nil
	})
	if err != nil {
		return fmt.Errorf("load sale prices: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT sale_id, product_id, units FROM sale_units WHERE sale_id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("load sale units: %w", err)
	}
	var n int
	units := souq.SaleUnits{}
	_, err = pgx.ForEachRow(rows, []any{&sale, &product, &n}, func() error {
		units.Add(sale, product, n)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load sale units: %w", err)
	}
	units.Fill(sales)
	return nil
}

// DeleteSale removes a sale and its prices; ErrNotFound if there is none.
func (db *DB) DeleteSale(ctx context.Context, id souq.ID) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM sales WHERE id = $1`, id)
	if err != nil {
		return unavailable(fmt.Errorf("delete sale %s: %w", id, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("sale %s: %w", id, souq.ErrNotFound)
	}
	return nil
}
