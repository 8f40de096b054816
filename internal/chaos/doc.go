// Package chaos is Souq's chaos suite. It builds the souq binary, runs
// `souq serve` as a child process on real engines (SQLite, NATS
// JetStream, the Parquet archive) under order and event load, injects
// faults — CPU starvation, kill -9, a stream server paused and killed, a
// read-only and a full archive disk, clock jumps — and ends every scenario
// by stopping the load, letting the pipeline drain and running `souq
// audit`, which must find nothing lost, duplicated or oversold. It also
// keeps its own ledger of what the server acknowledged (order ids, event
// message ids) and checks each against the database, the stream and the
// archive.
//
// The tests carry the build tag chaos, so `go test ./...` leaves them out:
//
//	go test -tags chaos -run TestChaos -count=1 -v ./internal/chaos/
//
// docs/chaos.md describes the scenarios, the flags (-chaos.seed,
// -chaos.duration, …) and the result table.
package chaos
