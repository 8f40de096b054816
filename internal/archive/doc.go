// Package archive writes the event stream to Parquet files in a blob store
// (a local directory by default, S3 at scale) and reads them back. It owns
// the archive's layout, its row schema and its exactly-once rule; the stream
// consumer that feeds it owns delivery and acknowledgement.
//
// # Layout
//
// Rows are partitioned by event time (the event's timestamp, in UTC) in Hive
// style, one file per partition per batch:
//
//	events/dt=YYYY-MM-DD/hour=HH/events-<first seq>-<last seq>.parquet
//	events/_manifests/<first seq>.json
//
// where first and last are the stream sequence range of the batch (20
// digits, zero-padded, so names sort by sequence). Manifests written
// before manifests were named by their first sequence alone are named
// "<first seq>-<last seq>.json" and are read alike. A batch whose events fall
// into several hours writes one file per hour, all named with the batch's
// range. The manifest, written after every file of its batch, lists them
// (key, rows, bytes, SHA-256, event-time bounds) and is the commit point: a
// data file without a manifest is an orphan left by a crash, deleted by
// [ReadAll] ignores and [Writer.Recover] deletes once it can never be
// committed.
//
// # Exactly once
//
// A file's name and bytes are a function of the rows it holds (no wall-clock
// time, a fixed created_by), and the consumer acknowledges a message only
// after [Writer.Flush] has committed the batch holding it. A crash before the
// manifest leaves orphans that Recover deletes; the messages are redelivered
// and archived again. A crash after the manifest but before the
// acknowledgement redelivers messages that [Writer.Add] recognises by their
// sequence (at or below the highest committed one) and reports with
// [ErrArchived], so the consumer acknowledges them without archiving them
// twice.
//
// That rule is sound because a Writer takes sequences in order without
// holes ([ErrGap]) and commits a batch only for a range it accounts for
// whole — each sequence a row, a rejected event or one the stream no
// longer held ([Writer.Skip]), all listed in the manifest — so everything
// at or below the highest committed sequence is accounted for, whatever
// order the stream delivered in. [Index] and [Measure] check the same
// from the manifests alone.
//
// Several writers (archiver replicas) may write one archive. Every file is
// created, never replaced ([Bucket].Create; S3's If-None-Match: *), and a
// manifest is named by its batch's first sequence, so of two writers
// committing from one sequence exactly one creates the name; the other
// reads the winner's manifest, counts its range as archived and goes on
// from its end. A writer only ever commits from the end of a manifest it
// has seen, so batches never overlap, whoever cuts them where. A data file
// found in place has the name, hence the bytes, of the same batch.
// [CheckCreateOnly] verifies at start that the store refuses overwrites.
//
// # Row schema
//
// Each row is one souq.Event plus its stream sequence. Rows are sorted by
// stream_seq within a file (declared as the row group's sorting column), and
// every column is compressed with zstd. Data pages are version 1 and use
// only PLAIN, RLE and dictionary encodings, which every Parquet reader
// supports (files were checked with DuckDB 1.5).
//
//	column        physical    logical                  repetition  from
//	stream_seq    INT64       INT(64, signed)          required    stream sequence of the message
//	message_id    BYTE_ARRAY  STRING                   required    messageId (the event's identity)
//	type          BYTE_ARRAY  STRING                   required    type: track, page or identify
//	event         BYTE_ARRAY  STRING                   optional    event (a track call's name)
//	name          BYTE_ARRAY  STRING                   optional    name (a page call's name)
//	timestamp     INT64       TIMESTAMP(MICROS, UTC)   required    timestamp: event time
//	received_at   INT64       TIMESTAMP(MICROS, UTC)   required    receivedAt: when Souq accepted it
//	user_id       BYTE_ARRAY  STRING                   optional    userId
//	anonymous_id  BYTE_ARRAY  STRING                   optional    anonymousId
//	properties    BYTE_ARRAY  JSON                     optional    properties, verbatim
//	traits        BYTE_ARRAY  JSON                     optional    traits, verbatim
//	context       BYTE_ARRAY  JSON                     optional    context, verbatim
//	market        BYTE_ARRAY  STRING                   optional    context.market, else properties.market
//	product_id    BYTE_ARRAY  STRING                   optional    properties.product_id
//	order_id      BYTE_ARRAY  STRING                   optional    properties.order_id
//
// An absent optional field (the empty string or no JSON) is NULL. Times are
// stored with microsecond precision. The last three columns are extracted
// for convenience (partition pruning and joins without JSON functions); a
// numeric product_id or order_id is stored as its decimal text.
//
// With DuckDB, from the directory holding the archive:
//
//	SELECT dt, hour, market, event, count(*) AS events
//	FROM read_parquet('archive/events/*/*/*.parquet', hive_partitioning = true)
//	WHERE dt = DATE '2025-11-28' AND type = 'track'
//	GROUP BY ALL ORDER BY ALL;
//
// docs/archive.md describes the same schema for people querying the archive.
package archive
