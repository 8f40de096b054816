// Package natsstream owns Souq's event stream on NATS JetStream: the
// stream of behaviour and purchase events (subjects souq.events.>), the
// stream of dead letters (souq.deadletters.>), publishing into them and the
// durable pull consumers the processor and the archiver read with.
//
// # Embedded or external
//
// Open either starts a NATS server inside the process (Options.URL empty:
// JetStream on, file storage under Options.StoreDir, no listening port
// unless Options.Listen is set, no signal handling) and connects to it with
// nats.InProcessServer, or connects to an existing server or cluster with
// nats.Connect(Options.URL). Everything after the connection is the same
// code: the two differ by one connection option, not by an interface. The
// embedded server locks its store directory until Close.
//
// # Durability
//
// A publish returns only after the server acknowledged the message, and the
// server acknowledges only after the message is written to the stream's
// file store (persist mode "default": the write reaches the operating
// system before the ack). What an acknowledged message survives depends on
// the server's sync mode:
//
//   - SyncAlways (jetstream sync_interval "always"): every message is
//     fsync'd to storage before it is acknowledged. An acknowledged message
//     survives a crash of the process and a power loss or operating-system
//     crash. Each message pays for its own disk sync (a single server does
//     not group separate publishes into one sync, batched or not), so the
//     publish rate is bounded by the disk's sync rate; see docs/stream.md.
//   - the server's default (SyncAlways false): files are fsync'd every two
//     minutes and at a clean shutdown. An acknowledged message survives a
//     crash of the process (the data is in the operating system's page
//     cache), but a power loss or operating-system crash may lose the
//     messages acknowledged in the last two minutes. This is the data loss
//     the 2025 Jepsen analysis of NATS 2.12.1 found; Souq pins a server
//     release with that analysis's fixes (2.15.2 here, ≥ 2.12.3), but no
//     release changes what lazy syncing promises.
//
// Options.SyncAlways applies to the embedded server only; an external
// server's sync mode is its own configuration (sync_interval: always in its
// jetstream block). Options.SyncAlways's zero value is false, but `souq
// serve` sets it from a flag that defaults to always, because Souq promises
// that a behaviour event acknowledged by the collector has been durably
// appended. See docs/stream.md.
//
// # Deduplication
//
// Every message carries its event id as the Nats-Msg-Id header, so the
// stream drops a second message with the same id published within
// Options.DuplicateWindow and acknowledges it with Ack.Duplicate set and the
// first copy's sequence. Consumers remove duplicates older than the window
// by event id.
//
// # Retention
//
// Both streams keep messages under limits (Options.MaxAge, Options.MaxBytes)
// and discard the oldest when a limit is reached, whether or not a consumer
// has read them: size the limits above the worst lag of the processor and
// the archiver, and alert on Consumer.Pending.
//
// # Acknowledgement
//
// Consumers use the explicit ack policy: each message is acknowledged on
// its own, and several processes may share one durable consumer. Msg.Ack
// waits for the server to confirm the ack (a double ack), so a returned nil
// means the server will not redeliver the message. Consumer.AckBatch sends
// a batch's acks and flushes the connection: one round trip for the batch,
// with the server holding every ack but not confirming each, so a server
// stop at that moment can redeliver them; the pipeline's consumers are
// idempotent. A message not acknowledged within Options.AckWait is
// redelivered.
//
// # Replicas
//
// Processes that open one durable with Consumer share its messages;
// Consumer never moves an existing durable's start, so a process binding
// to it does not disturb the others. Ephemeral gives a process a consumer
// of its own that the server deletes once the process is gone. Lead runs
// a role in one process at a time under a lease kept in a key-value
// bucket. Options.Replicas keeps the streams and the lease bucket in that
// many copies on a cluster.
//
// # Goroutines
//
// Open starts the embedded server's goroutines and the NATS connection's
// reader and flusher; they run until Close, which drains the connection
// (waiting for publishes in flight), then shuts the server down and waits
// for it. The first asynchronous publish starts one subscription that
// receives acks until Close. Each Fetch runs one goroutine that ends when
// the fetch returns. A Stream and its Consumers are safe for concurrent
// use; no method keeps a goroutine running after it returns except those
// named here.
package natsstream
