// Command push copies a directory tree to a destination through an
// upstream "rsync --server" that it starts itself, using gorsync's Go API:
// the way a program embeds gorsync to talk to any rsync. Over a network
// the server would be started by ssh; here it runs locally.
//
//	push [-rsync PATH] SRC DST
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"

	"github.com/gorsync/gorsync/rsync"
)

func main() {
	rsyncPath := flag.String("rsync", "rsync", "the rsync program to start as the server")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: push [-rsync PATH] SRC DST")
		os.Exit(1)
	}
	src, dst := flag.Arg(0), flag.Arg(1)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(push(ctx, *rsyncPath, src, dst))
}

// push sends the contents of src into dst and returns rsync's exit code.
func push(ctx context.Context, rsyncPath, src, dst string) int {
	c := &rsync.Client{
		Options: rsync.Options{Archive: true, Delete: true},
		Stderr:  os.Stderr,
		OnFile:  func(f rsync.File) { fmt.Printf("sent %s (%d bytes)\n", f.Name, f.Size) },
	}
	args, err := c.ServerArgs(true, dst)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return rsync.ExitCode(err)
	}
	server := exec.Command(rsyncPath, args...)
	server.Stderr = os.Stderr
	toServer, err := server.StdinPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 14
	}
	fromServer, err := server.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 14
	}
	if err := server.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 5
	}
	res, err := c.Send(ctx, conn{fromServer, toServer}, src+"/")
	toServer.Close()
	werr := server.Wait()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return rsync.ExitCode(err)
	}
	if werr != nil {
		fmt.Fprintln(os.Stderr, "rsync server:", werr)
		return 12
	}
	fmt.Printf("%d files, %d transferred, %d bytes of literal data\n", res.Files, res.Transferred, res.LiteralData)
	return 0
}

// conn is the connection to the server: its standard output to read, its
// standard input to write.
type conn struct {
	io.Reader
	io.Writer
}
