package engine

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
)

// recLog records what a role prints.
type recLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *recLog) add(m string) {
	l.mu.Lock()
	l.msgs = append(l.msgs, m)
	l.mu.Unlock()
}
func (l *recLog) Info(m string)      { l.add(m) }
func (l *recLog) Error(m string)     { l.add(m) }
func (l *recLog) Warning(m string)   { l.add(m) }
func (l *recLog) XferError(m string) { l.add(m) }

// finishCase is a receiver with a finisher writing into a fresh directory,
// with incremental recursion's done-with events.
func finishCase(t *testing.T, parallel bool, closeTemp func(*os.File) error) (*Receiving, *eventQueue, string) {
	t.Helper()
	dst := t.TempDir()
	io := fastio.Defaults().With(fastio.Parallel, parallel)
	root, err := fsys.OpenRoot(dst, io)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	for d := range 4 {
		os.Mkdir(filepath.Join(dst, fmt.Sprint("d", d)), 0o755)
	}
	o := &Options{Perms: true, Times: true, IO: io}
	o.Hooks.CloseTemp = closeTemp
	rs := &Receiving{Conn: &Conn{Log: &recLog{}}, Opts: o, Root: root, inc: true}
	events := newEventQueue()
	rs.fin = newFinisher(rs, events, false)
	return rs, events, dst
}

// finishData is file i's entry and contents.
func finishData(i int) (*flist.Entry, []byte) {
	e := &flist.Entry{Dir: fmt.Sprint("d", i%4), Base: fmt.Sprintf("f%03d", i), Mode: flist.ModeRegular | 0o640, Mtime: 1700000000 + int64(i)}
	return e, bytes.Repeat([]byte{byte(i)}, i*37%5000)
}

// TestFinisherReportsInOrder hands the finisher files of every kind of job
// (data to create, a written temporary file to finish, an outcome known
// already) and checks, with the workers on and off, that every file is in
// place with its data, mode and time, and that the done-with events come
// in the order the files were handed over, whatever order the workers
// finished them in.
func TestFinisherReportsInOrder(t *testing.T) {
	for _, parallel := range []bool{true, false} {
		t.Run(fmt.Sprint("parallel=", parallel), func(t *testing.T) {
			rs, events, dst := finishCase(t, parallel, nil)
			const n = 600
			for i := range n {
				e, data := finishData(i)
				j := finishJob{ndx: int32(i), e: e, name: e.Name()}
				switch {
				case i%50 == 7:
					j.out, j.msg = outFailed, "failed "+e.Name()+"\n"
				case i%3 == 0 || !rs.fin.buffers(int64(len(data))):
					tmp, tmpName, err := rs.Root.CreateTemp(j.name)
					if err != nil {
						t.Fatal(err)
					}
					tmp.Write(data)
					j.kind, j.tmp, j.tmpName = jobTemp, tmp, tmpName
				default:
					j.kind, j.buf, j.n = jobData, fastio.GetBuffer(len(data)), len(data)
					copy(j.buf.B, data)
				}
				if err := rs.fin.submit(j); err != nil {
					t.Fatal(err)
				}
			}
			if err := rs.fin.drain(); err != nil {
				t.Fatal(err)
			}
			rs.fin.pool.Lock()
			if b := rs.fin.bytes; b != 0 {
				t.Errorf("%d bytes still counted as buffered once every file is reported", b)
			}
			rs.fin.pool.Unlock()
			rs.fin.stop(false)
			evs, _ := events.take(nil, false)
			if len(evs) != n {
				t.Fatalf("%d events, want %d", len(evs), n)
			}
			for i, ev := range evs {
				if ev.kind != evDone || ev.ndx != int32(i) {
					t.Fatalf("event %d: %+v, want file %d done with", i, ev, i)
				}
			}
			for i := range n {
				e, data := finishData(i)
				p := filepath.Join(dst, e.Name())
				got, err := os.ReadFile(p)
				if i%50 == 7 {
					if err == nil {
						t.Errorf("%s was made", e.Name())
					}
					continue
				}
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s: %d bytes (%v), want %d", e.Name(), len(got), err, len(data))
				}
				fi, _ := os.Stat(p)
				if fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(time.Unix(e.Mtime, 0)) {
					t.Errorf("%s: mode %v, mtime %v", e.Name(), fi.Mode(), fi.ModTime())
				}
			}
			if !rs.failed.Load() {
				t.Error("the failed files did not fail the transfer")
			}
			noTemp(t, dst)
		})
	}
}

// TestFinisherCloseFailure makes one file's close fail: the outcome is
// fatal (exit 11), the file is not replaced, the files handed over before
// it are in place, and no temporary file is left. Without workers nothing
// after it is made; with them, only what a worker finished before the
// failure was known.
func TestFinisherCloseFailure(t *testing.T) {
	for _, parallel := range []bool{true, false} {
		t.Run(fmt.Sprint("parallel=", parallel), func(t *testing.T) {
			const bad = 137
			badName := fmt.Sprintf("f%03d", bad)
			rs, _, dst := finishCase(t, parallel, func(f *os.File) error {
				if strings.HasPrefix(filepath.Base(f.Name()), "."+badName+".") {
					f.Close()
					return &os.PathError{Op: "close", Path: f.Name(), Err: syscall.EIO}
				}
				return f.Close()
			})
			var fatal error
			handed := 0
			for i := range 400 {
				e, data := finishData(i)
				j := finishJob{kind: jobData, ndx: int32(i), e: e, name: e.Name(), buf: fastio.GetBuffer(len(data)), n: len(data)}
				copy(j.buf.B, data)
				if fatal = rs.fin.submit(j); fatal != nil {
					break
				}
				handed++
			}
			if fatal == nil {
				fatal = rs.fin.drain()
			}
			rs.fin.stop(false)
			if exitcode.Of(fatal) != exitcode.FileIO || !strings.Contains(fatal.Error(), "close failed on") {
				t.Fatalf("outcome %v, want the close failure (exit 11)", fatal)
			}
			for i := range handed {
				e, _ := finishData(i)
				_, err := os.Lstat(filepath.Join(dst, e.Name()))
				switch {
				case i < bad && err != nil:
					t.Errorf("%s, before the failure, is missing", e.Name())
				case i == bad && err == nil, i > bad && err == nil && !parallel:
					t.Errorf("%s, at or after the failure, was made", e.Name())
				}
			}
			noTemp(t, dst)
		})
	}
}

// noTemp fails t if a temporary file (".name.XXXXXX") is left beneath dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") && p != dir {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}
