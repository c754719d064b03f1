// Command gorsync is rsync re-implemented in Go: it takes rsync's options,
// speaks rsync's protocol with any rsync 3.x peer, and exits with rsync's codes.
package main

import (
	"os"

	"github.com/gorsync/gorsync/rsync"
)

func main() {
	os.Exit(rsync.Main(os.Args[1:], rsync.Env{}))
}
