// Command gorsync is rsync re-implemented in Go: it takes rsync's options,
// speaks rsync's protocol with any rsync 3.x peer, and exits with rsync's codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gorsync/gorsync/rsync"
)

func main() {
	// SIGINT, SIGTERM and SIGHUP stop the transfer the way rsync's
	// handlers do: what was being written is removed and the exit code is
	// 20. rsync: main.c sig_int, cleanup.c exit_cleanup
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-sigs
		cancel(rsync.ErrSignal)
		signal.Stop(sigs) // a second signal kills at once
	}()
	os.Exit(rsync.MainContext(ctx, os.Args[1:], rsync.Env{}))
}
