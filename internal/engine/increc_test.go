package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/transport"
	"github.com/gorsync/gorsync/internal/wire"
)

// incPeer is a scripted sender that speaks incremental recursion to a
// gorsync receiver over in-memory pipes: it writes the lists and indexes a
// test gives it, whatever the generator asks for.
type incPeer struct {
	c      *protocol.Conn
	enc    *flist.Encoder
	ndx    *wire.NdxCodec
	served bool // the script read the generator's stream
}

// incFlistOptions are the list options both ends of the scripted session
// use.
func incFlistOptions(s *protocol.Session) flist.Options {
	return flist.Options{Protocol: s.Protocol, CompatFlags: int(s.CompatFlags), Recurse: true, PreserveLinks: true}
}

// runIncReceiver runs a gorsync receiving client into dst against a peer
// that script plays, and returns the receiver and its error. Unless the
// script reads the generator's stream itself (serve), it is thrown away.
func runIncReceiver(t *testing.T, dst string, script func(p *incPeer)) (*Receiving, error) {
	t.Helper()
	toRecv, toSend := transport.NewPipe(1<<20), transport.NewPipe(1<<20)
	done := make(chan error, 1)
	var rs *Receiving
	go func() {
		pc, err := protocol.Connect(toRecv, toSend, protocol.Config{Protocol: 32, ClientInfo: protocol.ClientInfo(true), IncRecurse: true})
		if err != nil {
			done <- err
			return
		}
		if !pc.Session.IncRecurse() {
			done <- errors.New("incremental recursion not negotiated")
			return
		}
		c := NewConn(pc, nopLog{})
		o := &Options{Recursive: true, Links: true, Perms: true, Times: true, IO: fastio.Defaults()}
		rs = &Receiving{Conn: c, Opts: o}
		fo := incFlistOptions(pc.Session)
		err = rs.RecvFileList(&fo)
		if err == nil {
			err = rs.RecvAdditionalFileList()
		}
		if err == nil {
			var root *fsys.Root
			if root, err = fsys.OpenRoot(dst, o.IO); err == nil {
				rs.Root = root
				err = rs.Run(false)
				root.Close()
			}
		}
		toSend.CloseWrite(err)
		toRecv.CloseRead()
		done <- err
	}()
	pc, err := protocol.Connect(toSend, toRecv, protocol.Config{AmServer: true, AmSender: true, Protocol: 32, ClientInfo: protocol.ClientInfo(true), IncRecurse: true})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := flist.NewEncoder(incFlistOptions(pc.Session), &flist.SystemNames{})
	if err != nil {
		t.Fatal(err)
	}
	p := &incPeer{c: pc, enc: enc, ndx: wire.NewNdxCodec(pc.Session.Protocol)}
	script(p)
	if !p.served {
		go io.Copy(io.Discard, pc.R)
	}
	pc.W.Flush()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver did not stop")
	}
	toRecv.CloseWrite(nil)
	return rs, err
}

// serve answers the generator as a sender of lists lists with nothing to
// transfer does: it echoes each NDX_DONE but the one that closes the last
// list, which ends phase 0, then the phases' ends, the statistics and the
// goodbye. It returns the indexes the generator itemized.
// rsync: sender.c send_files, main.c read_final_goodbye
func (p *incPeer) serve(lists int) ([]int32, error) {
	p.served = true
	if err := p.c.W.Flush(); err != nil {
		return nil, err
	}
	in := wire.NewNdxCodec(p.c.Session.Protocol)
	var items []int32
	dones, phase := 0, 0
	for phase < 3 {
		ndx, err := in.Read(p.c.R)
		if err != nil {
			return items, err
		}
		if ndx >= 0 {
			if _, err := p.c.R.ReadShortint(); err != nil {
				return items, err
			}
			items = append(items, ndx)
			continue
		}
		if ndx != wire.NdxDone {
			return items, fmt.Errorf("generator sent %d", ndx)
		}
		if dones++; dones >= lists {
			phase++
		}
		if phase < 3 {
			p.ndx.Write(p.c.W, wire.NdxDone)
			if err := p.c.W.Flush(); err != nil {
				return items, err
			}
		}
	}
	p.ndx.Write(p.c.W, wire.NdxDone)
	for range 5 {
		p.c.W.WriteVarlong(0, 3)
	}
	p.c.W.Flush()
	for i := range 2 {
		ndx, err := in.Read(p.c.R)
		if err != nil || ndx != wire.NdxDone {
			return items, fmt.Errorf("goodbye %d: %d, %v", i, ndx, err)
		}
		if i == 0 {
			p.ndx.Write(p.c.W, wire.NdxDone)
			p.c.W.Flush()
		}
	}
	return items, nil
}

// list writes one list of entries: names ending in "/" are directories.
func (p *incPeer) list(ndxStart int32, names ...string) {
	p.enc.StartList(ndxStart)
	for _, n := range names {
		e := &flist.Entry{Mode: flist.ModeRegular | 0o644, Size: 0, Mtime: 1_700_000_000}
		if strings.HasSuffix(n, "/") {
			n = strings.TrimSuffix(n, "/")
			e.Mode = flist.ModeDir | 0o755
			e.Flags = flist.FlagContentDir
		}
		if i := strings.LastIndexByte(n, '/'); i >= 0 {
			e.Dir, e.Base = n[:i], n[i+1:]
		} else {
			e.Base = n
		}
		if err := p.enc.WriteEntry(p.c.W, e); err != nil {
			panic(err)
		}
	}
	p.enc.WriteEnd(p.c.W, 0)
}

// segment writes directory dirNdx's header and list.
func (p *incPeer) segment(dirNdx, ndxStart int32, names ...string) {
	p.ndx.Write(p.c.W, wire.NdxFlistStart-dirNdx)
	p.list(ndxStart, names...)
}

// TestIncRecurseHostileLists feeds a gorsync receiver lists that break
// incremental recursion's rules: each must stop it with rsync's message
// and exit code, never a panic or a hang. The first list is always
// ". a/ f", so the directories are "." (0) and "a" (1), and a's list starts
// at index 5.
func TestIncRecurseHostileLists(t *testing.T) {
	first := func(p *incPeer) { p.list(1, "./", "a/", "f") }
	cases := []struct {
		name   string
		script func(p *incPeer)
		msg    string
		code   int
	}{
		{
			name:   "dir index out of range",
			script: func(p *incPeer) { first(p); p.segment(5, 5, "a/x") },
			msg:    "Invalid dir index: -106 (-101 - -102) [receiver]",
			code:   exitcode.Protocol,
		},
		{
			name: "second list for one directory",
			script: func(p *incPeer) {
				first(p)
				p.segment(1, 5, "a/x")
				p.segment(1, 7, "a/y")
			},
			msg:  "rsync: refusing malicious duplicate flist for dir 1",
			code: exitcode.Protocol,
		},
		{
			name:   "entry outside the list's directory",
			script: func(p *incPeer) { first(p); p.segment(1, 5, "a/x", "b/y") },
			msg:    "ABORTING due to invalid path from sender: b/y",
			code:   exitcode.Unsupported,
		},
		{
			name:   "top-level entry in a directory's list",
			script: func(p *incPeer) { first(p); p.segment(1, 5, "x") },
			msg:    "ABORTING due to invalid path from sender: /x",
			code:   exitcode.Unsupported,
		},
		{
			name:   "nested entry in the first list",
			script: func(p *incPeer) { p.list(1, "./", "a/", "a/x") },
			msg:    "ABORTING due to invalid path from sender: a/x",
			code:   exitcode.Unsupported,
		},
		{
			name: "index in a freed list",
			script: func(p *incPeer) {
				first(p)
				p.segment(1, 5, "a/x", "a/y")
				p.ndx.Write(p.c.W, wire.NdxFlistEOF)
				// The echo of the generator's first NDX_DONE frees the
				// first list; "f" (index 3) is gone with it.
				p.ndx.Write(p.c.W, wire.NdxDone)
				p.ndx.Write(p.c.W, 3)
				p.c.W.WriteShortint(0)
			},
			msg:  "File-list index 3 not in 4 - 6",
			code: exitcode.Protocol,
		},
		{
			name: "list after the last",
			script: func(p *incPeer) {
				first(p)
				p.ndx.Write(p.c.W, wire.NdxFlistEOF)
				p.segment(1, 5, "a/x")
			},
			msg:  "rsync: refusing flist for dir 1 after the last one",
			code: exitcode.Protocol,
		},
		{
			name: "transfer of a directory by its gap index",
			script: func(p *incPeer) {
				first(p)
				p.segment(1, 5, "a/x")
				p.ndx.Write(p.c.W, wire.NdxFlistEOF)
				p.ndx.Write(p.c.W, 4)
				p.c.W.WriteShortint(itemTransfer)
			},
			msg:  "received request to transfer non-regular file: 4 [receiver]",
			code: exitcode.Protocol,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runIncReceiver(t, t.TempDir(), tc.script)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q, want %q", err, tc.msg)
			}
			if got := exitcode.Of(err); got != tc.code {
				t.Errorf("exit code %d, want %d (%v)", got, tc.code, err)
			}
		})
	}
}

// TestIncRecurseSegmentsFreed runs a scripted sender through a tree of
// four lists with nothing to transfer: the generator must itemize each
// directory by its list's gap index, close the lists in order with one
// NDX_DONE each, and the receiver must free each on the sender's echo,
// keeping the directories.
func TestIncRecurseSegmentsFreed(t *testing.T) {
	dst := t.TempDir()
	var items []int32
	var serr error
	rs, err := runIncReceiver(t, dst, func(p *incPeer) {
		p.list(1, "./", "a/", "b/") // 1-3, "." by gap index 0
		p.segment(1, 5, "a/x/")     // 5, a by 4
		p.segment(3, 7)             // a/x by 6, empty
		p.segment(2, 8)             // b by 7, empty
		p.ndx.Write(p.c.W, wire.NdxFlistEOF)
		items, serr = p.serve(4)
	})
	if err != nil || serr != nil {
		t.Fatalf("receiver: %v; sender: %v", err, serr)
	}
	// ".", whose time differs, a, a/x and b, which are new.
	if want := []int32{0, 4, 6, 7}; !slices.Equal(items, want) {
		t.Errorf("generator itemized %v, want %v (the gap indexes)", items, want)
	}
	if n := len(rs.segs.live); n != 0 {
		t.Errorf("%d lists still held", n)
	}
	if n := len(rs.segs.dirs); n != 4 {
		t.Errorf("%d directories kept, want 4", n)
	}
	for _, d := range []string{"a/x", "b"} {
		if fi, err := os.Stat(filepath.Join(dst, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s not made: %v", d, err)
		}
	}
}
