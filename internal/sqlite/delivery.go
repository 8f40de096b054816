package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/souq-commerce/souq/internal/delivery"
)

// DeliverySettings returns every market's delivery settings, by market code.
func (db *DB) DeliverySettings(ctx context.Context) ([]delivery.Settings, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT market, settings, updated_at FROM delivery_settings ORDER BY market`)
	if err != nil {
		return nil, fmt.Errorf("list delivery settings: %w", err)
	}
	defer rows.Close()
	out := []delivery.Settings{}
	for rows.Next() {
		var (
			market, doc string
			updated     int64
			s           delivery.Settings
		)
		if err := rows.Scan(&market, &doc, &updated); err != nil {
			return nil, fmt.Errorf("list delivery settings: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &s); err != nil {
			return nil, fmt.Errorf("delivery settings of %s: %w", market, err)
		}
		s.UpdatedAt = fromMicros(updated)
		out = append(out, s)
	}
	return out, rows.Err()
}

// PutDeliverySettings creates or replaces a market's delivery settings.
func (db *DB) PutDeliverySettings(ctx context.Context, s delivery.Settings) error {
	doc, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode delivery settings of %s: %w", s.Market, err)
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO delivery_settings (market, settings, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (market) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
			string(s.Market), string(doc), micros(s.UpdatedAt))
		if err != nil {
			return fmt.Errorf("put delivery settings of %s: %w", s.Market, err)
		}
		return nil
	})
}
