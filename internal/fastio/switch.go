package fastio

import (
	"fmt"
	"sort"
	"strings"
)

// A Path names one fast path of the I/O layer. Each can be forced on or off,
// for the tests (which run with every path forced each way) and for the
// benchmarks (which compare them). Without an override a path runs as its
// default says; the defaults are what the benchmarks justified.
type Path uint8

// The fast paths.
const (
	// Mmap maps files above a threshold for the sender's block search and
	// the receiver's basis reads; off reads them through a buffered window.
	Mmap Path = iota
	// Adaptive sizes read/write buffers by file size from a pool; off uses
	// fixed 32 KiB buffers.
	Adaptive
	// Writev gathers multiplexed frames into one vectored write.
	Writev
	// Uring stats the entries of each directory the sender's walk lists
	// ahead (Batch and Parallel) in one io_uring batch (StatMany); the ring
	// also serves ReadFiles, which no transfer uses yet.
	Uring
	// Batch reads the sender's directories with large getdents64 buffers,
	// their names carved from shared chunks (the walk describes entries
	// relative to the directory's descriptor either way), and keeps
	// recently used parent directories of the destination open
	// (fsys.Root), so a per-file operation is one *at call instead of
	// openat2, call, close.
	Batch
	// CopyRange copies whole files of a local transfer with
	// copy_file_range (reflinks where the filesystem makes them).
	CopyRange
	// Parallel spreads checksumming and delta computation over a worker
	// pool across files, and large files over chunks; the sender's walk
	// lists directories ahead of itself on the other cores; the receiver
	// creates and finishes files on a worker pool.
	Parallel
	// SendAhead runs the sender's block searches for several delta
	// transfers on workers across files, replaying their tokens in protocol
	// order. Off by default: 200 files of 1–4 MiB with edits, local and over
	// a remote shell, measured the same on as off (within ±20% noise, same
	// CPU) on 2 cores, where the receiver and generator already fill the
	// second core.
	SendAhead

	numPaths
)

// names are the paths' names in GORSYNC_FASTIO.
var names = [numPaths]string{
	Mmap: "mmap", Adaptive: "adaptive", Writev: "writev", Uring: "uring",
	Batch: "batch", CopyRange: "copyrange", Parallel: "parallel", SendAhead: "sendahead",
}

func (p Path) String() string {
	if p < numPaths {
		return names[p]
	}
	return fmt.Sprintf("Path(%d)", uint8(p))
}

// Env is the environment variable that overrides the defaults, for example
// GORSYNC_FASTIO=all=off or GORSYNC_FASTIO=uring=on,mmap=off. The session
// reads it (child processes such as a local server inherit it); nothing in
// this package reads the environment.
const Env = "GORSYNC_FASTIO"

// defaults are what the benchmarks justified.
var defaults = [numPaths]bool{
	Mmap:      true,
	Adaptive:  true,
	Writev:    true,
	Uring:     false, // statx slower, reads no steady gain: see uring_bench_test.go
	Batch:     true,
	CopyRange: true,
	Parallel:  true,
	SendAhead: false,
}

// Config says which fast paths are on for one transfer. It is a value:
// each transfer carries its own, so two transfers in one process may run
// with different paths. The zero Config has every path at its default, so
// options that leave it unset get what the benchmarks chose.
type Config struct {
	flip uint16 // a set bit turns its path the other way from its default
}

// Defaults is the Config with every path at its default: the zero Config.
func Defaults() Config { return Config{} }

// Default reports whether p is on when nothing overrides it.
func Default(p Path) bool { return p < numPaths && defaults[p] }

// On reports whether fast path p is on in c.
func (c Config) On(p Path) bool { return Default(p) != (c.flip&(1<<p) != 0) }

// With returns c with p turned on or off.
func (c Config) With(p Path, on bool) Config {
	if on != Default(p) {
		c.flip |= 1 << p
	} else {
		c.flip &^= 1 << p
	}
	return c
}

// String lists c as ParseConfig reads it.
func (c Config) String() string {
	var b strings.Builder
	for _, p := range Paths() {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		v := "off"
		if c.On(p) {
			v = "on"
		}
		b.WriteString(p.String() + "=" + v)
	}
	return b.String()
}

// Paths lists every fast path, sorted by name.
func Paths() []Path {
	ps := make([]Path, numPaths)
	for i := range ps {
		ps[i] = Path(i)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].String() < ps[j].String() })
	return ps
}

// ParseConfig reads a GORSYNC_FASTIO value — a comma-separated list of
// path=on|off where the name all stands for every path and later items
// win — over the defaults. An item it does not understand is an error; the
// Config it returns then holds the items it did.
func ParseConfig(s string) (Config, error) {
	c := Defaults()
	var bad []string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		var on bool
		switch strings.ToLower(val) {
		case "on", "1", "true", "yes":
			on = true
		case "off", "0", "false", "no":
			on = false
		default:
			ok = false
		}
		p, known := pathNamed(name)
		switch {
		case !ok || !known && name != "all":
			bad = append(bad, item)
		case name == "all":
			for p := range numPaths {
				c = c.With(p, on)
			}
		default:
			c = c.With(p, on)
		}
	}
	if len(bad) > 0 {
		return c, fmt.Errorf("%s: not understood: %s (want path=on|off, paths: all %v)", Env, strings.Join(bad, ", "), Paths())
	}
	return c, nil
}

// pathNamed returns the path called name.
func pathNamed(name string) (Path, bool) {
	for p, n := range names {
		if n == name {
			return Path(p), true
		}
	}
	return 0, false
}
