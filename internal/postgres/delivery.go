package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/delivery"
)

// DeliverySettings returns every market's delivery settings, by market code.
func (db *DB) DeliverySettings(ctx context.Context) ([]delivery.Settings, error) {
	rows, err := db.pool.Query(ctx, `SELECT settings, updated_at FROM delivery_settings ORDER BY market`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list delivery settings: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (delivery.Settings, error) {
		var (
			doc     []byte
			updated time.Time
			s       delivery.Settings
		)
		if err := row.Scan(&doc, &updated); err != nil {
			return s, err
		}
		if err := json.Unmarshal(doc, &s); err != nil {
			return s, fmt.Errorf("decode: %w", err)
		}
		s.UpdatedAt = updated.UTC()
		return s, nil
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("list delivery settings: %w", err))
	}
	if out == nil {
		out = []delivery.Settings{}
	}
	return out, nil
}

// PutDeliverySettings creates or replaces a market's delivery settings.
func (db *DB) PutDeliverySettings(ctx context.Context, s delivery.Settings) error {
	doc, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode delivery settings of %s: %w", s.Market, err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO delivery_settings (market, settings, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (market) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
		string(s.Market), doc, s.UpdatedAt)
	if err != nil {
		return unavailable(fmt.Errorf("put delivery settings of %s: %w", s.Market, err))
	}
	return nil
}
