package archive

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/parquet-go/parquet-go"
	json "github.com/segmentio/encoding/json"

	"github.com/souq-commerce/souq/internal/souq"
)

// row is one archived event as a Parquet row. The struct tags are the file
// schema; the package documentation describes it for readers. An optional
// string column is NULL when the Go string is empty, an optional JSON column
// when the slice is nil. The JSON columns are json.RawMessage because
// parquet-go v0.32.0 panics when writing an optional json column declared as
// []byte or string (a NULL gets definition level 2 of max 1); json.RawMessage
// takes another path and is written verbatim.
type row struct {
	StreamSeq   int64           `parquet:"stream_seq"`
	MessageID   string          `parquet:"message_id"`
	Type        string          `parquet:"type,dict"`
	Event       string          `parquet:"event,optional,dict"`
	Name        string          `parquet:"name,optional,dict"`
	Timestamp   int64           `parquet:"timestamp,timestamp(microsecond:utc)"`
	ReceivedAt  int64           `parquet:"received_at,timestamp(microsecond:utc)"`
	UserID      string          `parquet:"user_id,optional"`
	AnonymousID string          `parquet:"anonymous_id,optional"`
	Properties  json.RawMessage `parquet:"properties,optional,json"`
	Traits      json.RawMessage `parquet:"traits,optional,json"`
	Context     json.RawMessage `parquet:"context,optional,json"`
	Market      string          `parquet:"market,optional,dict"`
	ProductID   string          `parquet:"product_id,optional,dict"`
	OrderID     string          `parquet:"order_id,optional"`
}

// createdBy is written in every file's footer instead of parquet-go's
// default, so that the bytes of a file depend only on its rows.
const (
	createdByApp     = "souq archive"
	createdByVersion = "1"
	createdByBuild   = "parquet-go v0.32.0"
)

// writerOptions configure every data file: zstd, version 1 data pages and
// only the encodings of Parquet 1.0 plus dictionaries (PLAIN, RLE,
// RLE_DICTIONARY; parquet-go would otherwise use DELTA_LENGTH_BYTE_ARRAY for
// strings, which older readers such as Spark before 3.3 reject), a fixed
// created_by, and the row group declared as sorted by stream_seq (rows are
// sorted before they are written).
var writerOptions = []parquet.WriterOption{
	parquet.Compression(&parquet.Zstd),
	parquet.DataPageVersion(1),
	parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.Plain),
	parquet.CreatedBy(createdByApp, createdByVersion, createdByBuild),
	parquet.SortingWriterConfig(parquet.SortingColumns(parquet.Ascending("stream_seq"))),
}

// rowOverhead approximates the encoded bytes of a row beyond its variable
// fields (two timestamps, the sequence, definition levels).
const rowOverhead = 32

// size approximates the bytes the row adds to a file before compression.
func (r *row) size() int {
	return rowOverhead + len(r.MessageID) + len(r.Type) + len(r.Event) + len(r.Name) +
		len(r.UserID) + len(r.AnonymousID) + len(r.Properties) + len(r.Traits) + len(r.Context) +
		len(r.Market) + len(r.ProductID) + len(r.OrderID)
}

// eventTime returns the row's event time in UTC.
func (r *row) eventTime() time.Time { return time.UnixMicro(r.Timestamp).UTC() }

// newRow converts an event to a row, checking what the archive relies on:
// a sequence, a message id, a type, an event time that names a partition,
// and JSON fields that are JSON.
func newRow(seq uint64, ev souq.Event) (row, error) {
	switch {
	case seq == 0 || seq > math.MaxInt64:
		return row{}, fmt.Errorf("%w: stream sequence %d out of range", ErrInvalidEvent, seq)
	case ev.MessageID == "":
		return row{}, fmt.Errorf("%w: seq %d: no messageId", ErrInvalidEvent, seq)
	case ev.Type == "":
		return row{}, fmt.Errorf("%w: seq %d: no type", ErrInvalidEvent, seq)
	case ev.Timestamp.IsZero() || ev.Timestamp.UTC().Year() > 9999:
		return row{}, fmt.Errorf("%w: seq %d: timestamp %v out of range", ErrInvalidEvent, seq, ev.Timestamp)
	}
	r := row{
		StreamSeq:   int64(seq),
		MessageID:   ev.MessageID,
		Type:        ev.Type,
		Event:       ev.Event,
		Name:        ev.Name,
		Timestamp:   ev.Timestamp.UnixMicro(),
		ReceivedAt:  ev.ReceivedAt.UnixMicro(),
		UserID:      ev.UserID,
		AnonymousID: ev.AnonymousID,
		Properties:  nonEmpty(ev.Properties),
		Traits:      nonEmpty(ev.Traits),
		Context:     nonEmpty(ev.Context),
	}
	var props, ctx extracted
	if err := extract(r.Properties, &props); err != nil {
		return row{}, fmt.Errorf("%w: seq %d: properties: %v", ErrInvalidEvent, seq, err)
	}
	if err := extract(r.Context, &ctx); err != nil {
		return row{}, fmt.Errorf("%w: seq %d: context: %v", ErrInvalidEvent, seq, err)
	}
	if r.Traits != nil && !json.Valid(r.Traits) {
		return row{}, fmt.Errorf("%w: seq %d: traits are not JSON", ErrInvalidEvent, seq)
	}
	r.Market = string(ctx.Market)
	if r.Market == "" {
		r.Market = string(props.Market)
	}
	r.ProductID = string(props.ProductID)
	r.OrderID = string(props.OrderID)
	return r, nil
}

// record converts a row read from a file back to the event it was made from.
func (r *row) record() Record {
	return Record{
		Seq: uint64(r.StreamSeq),
		Event: souq.Event{
			MessageID:   r.MessageID,
			Type:        r.Type,
			Event:       r.Event,
			Name:        r.Name,
			Timestamp:   time.UnixMicro(r.Timestamp).UTC(),
			ReceivedAt:  time.UnixMicro(r.ReceivedAt).UTC(),
			UserID:      r.UserID,
			AnonymousID: r.AnonymousID,
			Properties:  rawJSON(r.Properties),
			Traits:      rawJSON(r.Traits),
			Context:     rawJSON(r.Context),
		},
	}
}

func nonEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return b
}

func rawJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return b
}

// extracted holds the convenience columns found at the top level of an
// event's properties or context.
type extracted struct {
	Market    scalar `json:"market"`
	ProductID scalar `json:"product_id"`
	OrderID   scalar `json:"order_id"`
}

// extract decodes the convenience fields of a JSON object. Invalid JSON is
// an error; JSON that is not an object (or fields that are not strings or
// numbers) simply yields nothing.
func extract(data []byte, into *extracted) error {
	if data == nil {
		return nil
	}
	err := json.Unmarshal(data, into)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		*into = extracted{}
		return nil
	}
	return err
}

// scalar is a JSON string, or a JSON number kept as its text; anything else
// decodes to "".
type scalar string

func (s *scalar) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*s = scalar(b)
	default:
		*s = ""
	}
	return nil
}
