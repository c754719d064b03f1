package fastio

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// A Path names one fast path of the I/O layer. Each can be forced on or off,
// for the tests (which run with every path forced each way) and for the
// benchmarks (which compare them). Without an override a path runs as its
// default says; the defaults are what the benchmarks justified.
type Path string

// The fast paths.
const (
	// Mmap maps files above a threshold for the sender's block search and
	// the receiver's basis reads; off reads them through a buffered window.
	Mmap Path = "mmap"
	// Adaptive sizes read/write buffers by file size from a pool; off uses
	// fixed 32 KiB buffers.
	Adaptive Path = "adaptive"
	// Writev gathers multiplexed frames into one vectored write.
	Writev Path = "writev"
	// Uring stats the entries of each directory the sender's walk lists
	// ahead (Batch and Parallel) in one io_uring batch (StatMany); the ring
	// also serves ReadFiles, which no transfer uses yet.
	Uring Path = "uring"
	// Batch walks directories with large getdents64 buffers and stats
	// entries relative to the directory's descriptor, and keeps recently
	// used parent directories of the destination open (fsys.Root), so a
	// per-file operation is one *at call instead of openat2, call, close.
	Batch Path = "batch"
	// CopyRange copies whole files of a local transfer with
	// copy_file_range (reflinks where the filesystem makes them).
	CopyRange Path = "copyrange"
	// Parallel spreads checksumming and delta computation over a worker
	// pool across files, and large files over chunks; the sender's walk
	// lists directories ahead of itself on the other cores.
	Parallel Path = "parallel"
	// SendAhead runs the sender's block searches for several delta
	// transfers on workers across files, replaying their tokens in protocol
	// order. Off by default: 200 files of 1–4 MiB with edits, local and over
	// a remote shell, measured the same on as off (within ±20% noise, same
	// CPU) on 2 cores, where the receiver and generator already fill the
	// second core.
	SendAhead Path = "sendahead"
)

// Env is the environment variable that overrides the defaults, for example
// GORSYNC_FASTIO=all=off or GORSYNC_FASTIO=uring=on,mmap=off. Child
// processes (a local server, tests' peers) inherit it.
const Env = "GORSYNC_FASTIO"

var defaults = map[Path]bool{
	Mmap:      true,
	Adaptive:  true,
	Writev:    true,
	Uring:     false, // statx slower, reads no steady gain: see uring_bench_test.go
	Batch:     true,
	CopyRange: true,
	Parallel:  true,
	SendAhead: false,
}

var (
	mu       sync.RWMutex
	override = map[Path]bool{}
	envOnce  sync.Once
	envErr   error
)

// Paths lists every fast path, sorted.
func Paths() []Path {
	ps := make([]Path, 0, len(defaults))
	for p := range defaults {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

// Default reports whether p is on when nothing overrides it.
func Default(p Path) bool { return defaults[p] }

// Enabled reports whether fast path p is on.
func Enabled(p Path) bool {
	envOnce.Do(loadEnv)
	mu.RLock()
	defer mu.RUnlock()
	if v, ok := override[p]; ok {
		return v
	}
	return defaults[p]
}

// Force turns p on or off in this process until the returned function
// restores what was there before (for tests and benchmarks).
func Force(p Path, on bool) (restore func()) {
	envOnce.Do(loadEnv)
	mu.Lock()
	defer mu.Unlock()
	old, had := override[p]
	override[p] = on
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if had {
			override[p] = old
		} else {
			delete(override, p)
		}
	}
}

// EnvError reports a malformed GORSYNC_FASTIO, which is otherwise ignored
// path by path (an unknown name or value leaves that path at its default).
func EnvError() error {
	envOnce.Do(loadEnv)
	return envErr
}

func loadEnv() {
	s := os.Getenv(Env)
	if s == "" {
		return
	}
	m, err := ParseSwitches(s)
	envErr = err
	mu.Lock()
	defer mu.Unlock()
	for p, v := range m {
		override[p] = v
	}
}

// ParseSwitches reads a comma-separated list of path=on|off; the name all
// stands for every path, and later items win.
func ParseSwitches(s string) (map[Path]bool, error) {
	m := map[Path]bool{}
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
		if !ok {
			bad = append(bad, item)
			continue
		}
		if name == "all" {
			for p := range defaults {
				m[p] = on
			}
			continue
		}
		if _, known := defaults[Path(name)]; !known {
			bad = append(bad, item)
			continue
		}
		m[Path(name)] = on
	}
	if len(bad) > 0 {
		return m, fmt.Errorf("%s: not understood: %s (want path=on|off, paths: all %v)", Env, strings.Join(bad, ", "), Paths())
	}
	return m, nil
}
