package flist

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gorsync/gorsync/internal/wire"
)

// benchEntries is a directory-shaped list: 100 directories of 100 files,
// some symlinks, as a walk would produce it.
func benchEntries() []*Entry {
	var es []*Entry
	for d := 0; d < 100; d++ {
		dir := fmt.Sprintf("project/dir%03d", d)
		dd, db := splitName(dir)
		es = append(es, &Entry{Dir: dd, Base: db, Mode: ModeDir | 0o755, Mtime: 1700000000, UID: 1000, GID: 1000})
		for f := 0; f < 100; f++ {
			e := &Entry{Dir: dir, Base: fmt.Sprintf("file%04d.go", f), Mode: ModeRegular | 0o644, Size: int64(f * 1000), Mtime: 1700000000 + int64(f), MtimeNsec: uint32(f), UID: 1000, GID: 1000}
			e.SetSum(make([]byte, 16))
			if f%10 == 0 {
				e.Mode = ModeSymlink | 0o777
				e.SetLinkTarget("../target")
			}
			es = append(es, e)
		}
	}
	return es
}

var benchOpts = Options{Protocol: 32, CompatFlags: 0x1fe, Recurse: true, PreserveUID: true, PreserveGID: true, PreserveLinks: true, PreserveDevices: true, PreserveSpecials: true, AlwaysChecksum: true, ChecksumLen: 16}

func BenchmarkWriteEntry(b *testing.B) {
	es := benchEntries()
	enc, _ := NewEncoder(benchOpts, testNames)
	w := wire.NewWriter(io.Discard)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := enc.WriteEntry(w, es[i%len(es)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadEntry(b *testing.B) {
	es := benchEntries()
	data := encodeList(b, benchOpts, es, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dec, _ := NewDecoder(benchOpts)
		if _, err := dec.ReadList(wire.NewReader(bytes.NewReader(data))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(es))/b.Elapsed().Seconds(), "entries/s")
}

func BenchmarkSort(b *testing.B) {
	es := benchEntries()
	work := make([]*Entry, len(es))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(work, es)
		Sort(work, 32)
	}
}

// BenchmarkBuild walks a tree of 20 directories of 500 files and reports
// the heap bytes the resulting list costs per entry.
func BenchmarkBuild(b *testing.B) {
	dir := b.TempDir()
	for d := 0; d < 20; d++ {
		sub := filepath.Join(dir, fmt.Sprintf("dir%02d", d))
		if err := os.Mkdir(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := 0; f < 500; f++ {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("file-%04d.txt", f)), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var entries int
	var heap uint64
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l, err := Build([]string{dir + "/"}, WalkOptions{Recurse: true})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		entries = l.Len()
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(l)
	}
	b.ReportMetric(float64(heap)/float64(entries), "live-B/entry")
}

// t7Entries is a list shaped like bench's T7 workload in the sender's walk
// order: the transfer root, then dirs directories of perDir empty files
// each, every directory's names in reverse (tmpfs readdir) order.
func t7Entries(dirs, perDir int) []*Entry {
	es := []*Entry{{Base: ".", Mode: ModeDir | 0o755, Mtime: 1735732800, UID: 1000, GID: 1000, Flags: FlagTopDir | FlagContentDir}}
	for d := dirs - 1; d >= 0; d-- {
		es = append(es, &Entry{Base: fmt.Sprintf("d%04d", d), Mode: ModeDir | 0o755, Mtime: 1735732800, UID: 1000, GID: 1000, Flags: FlagContentDir})
	}
	for d := dirs - 1; d >= 0; d-- {
		dir := fmt.Sprintf("d%04d", d)
		for f := perDir - 1; f >= 0; f-- {
			es = append(es, &Entry{Dir: dir, Base: fmt.Sprintf("e%07d", d*perDir+f), Mode: ModeRegular | 0o644, Mtime: 1735732800, MtimeNsec: uint32(f), UID: 1000, GID: 1000})
		}
	}
	return es
}

// t7Opts are the list options of "rsync -a" at protocol 31.
var t7Opts = Options{Protocol: 31, CompatFlags: CFSafeFlist | CFVarintFlistFlags | CFID0Names, Recurse: true, PreserveUID: true, PreserveGID: true, PreserveLinks: true, PreserveDevices: true, PreserveSpecials: true}

// BenchmarkReadList decodes, sorts and cleans a T7-shaped list of 100,000
// entries as a receiver does, and reports the heap bytes the received list
// keeps per entry.
func BenchmarkReadList(b *testing.B) {
	es := t7Entries(100, 1000)
	data := encodeList(b, t7Opts, es, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var heap uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		dec, err := NewDecoder(t7Opts)
		if err != nil {
			b.Fatal(err)
		}
		l, err := dec.ReadList(wire.NewReader(bytes.NewReader(data)))
		if err != nil {
			b.Fatal(err)
		}
		dec = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(l)
	}
	b.ReportMetric(float64(heap)/float64(len(es)), "live-B/entry")
	b.ReportMetric(float64(b.N*len(es))/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkSortWalkOrder sorts a T7-shaped list of 100,000 entries from the
// sender's walk order (each directory's names reversed) into rsync's order.
func BenchmarkSortWalkOrder(b *testing.B) {
	es := t7Entries(100, 1000)
	work := make([]*Entry, len(es))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, es)
		Sort(work, 31)
	}
	b.ReportMetric(float64(b.N*len(es))/b.Elapsed().Seconds(), "entries/s")
}
