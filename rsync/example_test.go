package rsync_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"

	"github.com/gorsync/gorsync/rsync"
)

// exampleTree makes a small source tree for the examples.
func exampleTree() (src, dst string) {
	dir, err := os.MkdirTemp("", "gorsync-example-")
	if err != nil {
		log.Fatal(err)
	}
	src, dst = filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	for name, body := range map[string]string{"README": "hello\n", "doc/guide.txt": "a guide\n", "doc/notes.txt": "notes\n"} {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	return src, dst
}

// A local copy, as "rsync -a src/ dst/" makes it, with a callback for each
// file copied.
func ExampleClient_Run() {
	src, dst := exampleTree()
	defer os.RemoveAll(filepath.Dir(src))

	c := &rsync.Client{
		Options: rsync.Options{Archive: true},
		OnFile:  func(f rsync.File) { fmt.Println("copied", f.Name, f.Size) },
	}
	res, err := c.Run(context.Background(), []string{src + "/"}, dst)
	if err != nil {
		log.Fatalf("exit code %d: %v", rsync.ExitCode(err), err)
	}
	fmt.Printf("%d entries, %d files transferred, %d bytes\n", res.Files, res.Transferred, res.TotalSize)
	// Output:
	// copied README 6
	// copied doc/guide.txt 8
	// copied doc/notes.txt 6
	// 5 entries, 3 files transferred, 20 bytes
}

// A push over a connection the program made itself, here to a gorsync
// Server in the same process; a real program would start "rsync" with
// ServerArgs on another machine (examples/push does so with upstream
// rsync).
func ExampleClient_Send() {
	src, dst := exampleTree()
	defer os.RemoveAll(filepath.Dir(src))

	c := &rsync.Client{Options: rsync.Options{Archive: true, Delete: true}}
	args, err := c.ServerArgs(true, dst)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		done <- (&rsync.Server{}).Serve(context.Background(), conn, args)
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Send(context.Background(), conn, src+"/")
	conn.Close()
	if err != nil {
		log.Fatal(err)
	}
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dst, "doc", "guide.txt"))
	fmt.Printf("sent %d files; guide: %s", res.Transferred, got)
	// Output:
	// sent 3 files; guide: a guide
}

// The exit code of a failed transfer is rsync's.
func ExampleExitCode() {
	c := &rsync.Client{Options: rsync.Options{Extra: []string{"--no-such-option"}}}
	_, err := c.Run(context.Background(), []string{"src/"}, "dst/")
	fmt.Println(rsync.ExitCode(err))
	// Output:
	// 1
}
