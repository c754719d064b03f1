package engine

import (
	"os"
	"path/filepath"
	"testing"
)

func openFiles(t testing.TB, n int) []*os.File {
	t.Helper()
	dir := t.TempDir()
	fs := make([]*os.File, n)
	for i := range fs {
		name := filepath.Join(dir, "f")
		if i == 0 {
			os.WriteFile(name, []byte("data"), 0o644)
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		fs[i] = f
	}
	return fs
}

// TestHandoffBounded checks the Handoff's rules: one file per index at a
// time, at most maxHanded not yet taken (the sender flushes, then waits for
// the receiver to take half of them), and Close wakes a waiting sender and
// closes what was never taken.
func TestHandoffBounded(t *testing.T) {
	h := NewHandoff()
	fs := openFiles(t, 2*maxHanded)
	noFlush := func() error { t.Fatal("flushed with room left"); return nil }
	for i := 0; i < maxHanded; i++ {
		if !h.give(int32(i), fs[i], noFlush, nil) {
			t.Fatalf("give %d refused", i)
		}
	}
	flushed := make(chan struct{}, 2)
	given := make(chan bool)
	go func() {
		given <- h.give(maxHanded, fs[maxHanded], func() error { flushed <- struct{}{}; return nil }, nil)
	}()
	<-flushed
	hf, ok := h.take(3) // the receiver reaches file 3
	if !ok || hf.f != fs[3] || hf.size != 4 {
		t.Fatalf("take(3) = %v, %v", hf, ok)
	}
	if _, ok := h.take(3); ok {
		t.Fatal("index 3 taken twice")
	}
	for i := maxHanded / 2; i < maxHanded; i++ {
		if i != 3 {
			h.take(int32(i)) // half taken: room for the sender
		}
	}
	if !<-given {
		t.Fatal("give after a release refused")
	}
	next := maxHanded + 1
	for ; next < maxHanded+1+maxHanded/2; next++ { // full again
		if !h.give(int32(next), fs[next], noFlush, nil) {
			t.Fatalf("give %d refused", next)
		}
	}
	go func() {
		given <- h.give(int32(next), fs[next], func() error { flushed <- struct{}{}; return nil }, nil)
	}()
	<-flushed
	h.Close()
	if <-given {
		t.Fatal("give accepted after Close")
	}
	if _, ok := h.take(0); ok {
		t.Fatal("a file outlived Close")
	}
	if _, err := fs[0].Stat(); err == nil {
		t.Fatal("Close left an untaken file open")
	}
}
