package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// CreateSale stores a sale with its prices. A duplicate id is an
// ErrConflict; a sale overlapping a stored one in time is a
// *catalog.SaleOverlapError.
func (db *DB) CreateSale(ctx context.Context, s souq.Sale) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sales WHERE id = ?`, s.ID).Scan(&n); err != nil {
			return fmt.Errorf("create sale %s: %w", s.ID, err)
		}
		if n > 0 {
			return fmt.Errorf("sale %s: %w", s.ID, souq.ErrConflict)
		}
		// Inside the write transaction (BEGIN IMMEDIATE), so no other sale
		// can be written between this check and the insert.
		var (
			o                    souq.Sale
			starts, ends, create int64
		)
		err := tx.QueryRowContext(ctx, `SELECT id, name_en, name_ar, starts_at, ends_at, created_at FROM sales
			WHERE starts_at < ? AND ends_at > ? ORDER BY starts_at, id LIMIT 1`, micros(s.EndsAt), micros(s.StartsAt)).
			Scan(&o.ID, &o.Name.EN, &o.Name.AR, &starts, &ends, &create)
		switch {
		case err == nil:
			o.StartsAt, o.EndsAt, o.CreatedAt = fromMicros(starts), fromMicros(ends), fromMicros(create)
			return &catalog.SaleOverlapError{Other: o}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("create sale %s: check for overlaps: %w", s.ID, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sales (id, name_en, name_ar, starts_at, ends_at, protected, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.ID, s.Name.EN, s.Name.AR, micros(s.StartsAt), micros(s.EndsAt), s.Protected, micros(s.CreatedAt))
		if err != nil {
			return fmt.Errorf("create sale %s: %w", s.ID, err)
		}
		for product, prices := range s.Prices {
			for market, amount := range prices {
				_, err := tx.ExecContext(ctx, `INSERT INTO sale_prices (sale_id, product_id, market, amount)
					VALUES (?, ?, ?, ?)`, s.ID, product, string(market), amount)
				if err != nil {
					return fmt.Errorf("create sale %s: price of %s in %s: %w", s.ID, product, market, err)
				}
			}
		}
		for product, units := range s.Units {
			_, err := tx.ExecContext(ctx, `INSERT INTO sale_units (sale_id, product_id, units) VALUES (?, ?, ?)`, s.ID, product, units)
			if err != nil {
				return fmt.Errorf("create sale %s: units of %s: %w", s.ID, product, err)
			}
		}
		return nil
	})
}

// SalesEndingAfter returns the sales whose end is after t (running or
// scheduled), ordered by start time and then id, with their prices.
func (db *DB) SalesEndingAfter(ctx context.Context, t time.Time) ([]souq.Sale, error) {
	sales := []souq.Sale{}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, name_en, name_ar, starts_at, ends_at, protected, created_at
			FROM sales WHERE ends_at > ? ORDER BY starts_at, id`, micros(t))
		if err != nil {
			return fmt.Errorf("list sales: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				s                    souq.Sale
				starts, ends, create int64
			)
			if err := rows.Scan(&s.ID, &s.Name.EN, &s.Name.AR, &starts, &ends, &s.Protected, &create); err != nil {
				return fmt.Errorf("list sales: %w", err)
			}
			s.StartsAt, s.EndsAt, s.CreatedAt = fromMicros(starts), fromMicros(ends), fromMicros(create)
			s.Prices = map[souq.ID]map[souq.MarketCode]int64{}
			sales = append(sales, s)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list sales: %w", err)
		}
		rows.Close()
		return loadSalePrices(ctx, tx, sales)
	})
	if err != nil {
		return nil, err
	}
	return sales, nil
}

// loadSalePrices fills in the prices of the given sales.
func loadSalePrices(ctx context.Context, tx *sql.Tx, sales []souq.Sale) error {
	if len(sales) == 0 {
		return nil
	}
	byID := make(map[souq.ID]souq.Sale, len(sales))
	args := make([]any, len(sales))
	for i, s := range sales {
		byID[s.ID] = s // Prices is a map, shared with the slice element
		args[i] = s.ID
	}
	err := queryIn(ctx, tx, `SELECT sale_id, product_id, market, amount FROM sale_prices WHERE sale_id IN (?)`, args,
		func(rows *sql.Rows) error {
			var (
				sale, product souq.ID
				market        souq.MarketCode
				amount        int64
			)
			if err := rows.Scan(&sale, &product, &market, &amount); err != nil {
				return err
			}
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
	units := souq.SaleUnits{}
	err = queryIn(ctx, tx, `SELECT sale_id, product_id, units FROM sale_units WHERE sale_id IN (?)`, args,
		func(rows *sql.Rows) error {
			var (
				sale, product souq.ID
				n             int
			)
			if err := rows.Scan(&sale, &product, &n); err != nil {
				return err
			}
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
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		n, err := rowsAffected(tx.ExecContext(ctx, `DELETE FROM sales WHERE id = ?`, id))
		if err != nil {
			return fmt.Errorf("delete sale %s: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("sale %s: %w", id, souq.ErrNotFound)
		}
		return nil
	})
}
