package audit

import (
	"context"
	"time"

	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/souq"
)

// StreamMsg is one message of the events stream.
type StreamMsg struct {
	Seq    uint64
	Stored time.Time // when the stream stored it
	Event  souq.Event
	Err    error // why the data is not an event; Event is zero then
}

// StreamContents is every message the events stream held when it was read.
type StreamContents struct {
	Info natsstream.Info // the stream's state before the read
	Msgs []StreamMsg     // by sequence, each once
}

// ReadStream reads every message of the events stream, up to the last one
// stored when it starts, in sequence order (natsstream.Stream.Read: an
// ordered consumer, so a delivery lost on the way is read again rather
// than missed). It may run while the pipeline's consumers run.
func ReadStream(ctx context.Context, s *natsstream.Stream) (StreamContents, error) {
	info, err := s.Info(ctx)
	if err != nil {
		return StreamContents{}, err
	}
	out := StreamContents{Info: info, Msgs: []StreamMsg{}}
	if info.Msgs == 0 {
		return out, nil
	}
	err = s.Read(ctx, info.FirstSeq, info.LastSeq, func(m natsstream.Msg) error {
		ev, err := m.Event()
		out.Msgs = append(out.Msgs, StreamMsg{Seq: m.Seq, Stored: m.Stored, Event: ev, Err: err})
		return nil
	})
	if err != nil {
		return StreamContents{}, err
	}
	return out, nil
}
