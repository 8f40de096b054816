// Command souq runs the Souq commerce stack: `souq serve` starts the shop API
// (and, with --demo, a demo catalogue) on embedded engines.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "souq: %v\n", err)
		stop()
		os.Exit(exitCode(err))
	}
}
