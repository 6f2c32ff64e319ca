// Command giving runs the Giving donation service. main only wires the process to run,
// which tests call directly.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, "giving:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "giving:", err)
		os.Exit(1)
	}
}
