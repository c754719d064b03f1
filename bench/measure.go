package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sample is one measured run of one command.
type sample struct {
	Wall    float64 `json:"wall_s"`     // monotonic wall time, seconds
	User    float64 `json:"user_s"`     // user CPU of the process and its reaped descendants
	Sys     float64 `json:"sys_s"`      // system CPU, likewise
	MaxRSS  int64   `json:"max_rss_kb"` // largest peak RSS of any one process in the tree, KiB
	Exit    int     `json:"exit"`
	Stderr  string  `json:"stderr,omitempty"`
	Ordinal int     `json:"ordinal"` // position in the alternating sequence
}

// runTimeout bounds one run, so that a hung tool fails its cell instead of
// the whole suite.
const runTimeout = 15 * time.Minute

// timeBin is GNU time, through which measure runs commands to learn their
// peak RSS; empty when it is missing.
var timeBin string

// measure runs argv once and returns its wall time and the rusage that wait4
// reports for it. On Linux that rusage covers the child and every descendant
// it reaped: CPU times are summed over them and ru_maxrss is the maximum of
// their peak RSS values (not their sum).
//
// Go starts children with vfork semantics (CLONE_VM), and the kernel records
// the memory the child shared before exec in its ru_maxrss, so our own wait4
// would report this benchmark's RSS for a small tool. The command therefore
// runs under GNU time, which forks it from a small C process; its %M is the
// tree's peak RSS as defined above. CPU comes from our wait4 (time's own CPU
// is negligible).
func measure(argv []string) sample {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var rssFile string
	if timeBin != "" {
		f, err := os.CreateTemp("", "bench-rss-")
		if err == nil {
			rssFile = f.Name()
			f.Close()
			defer os.Remove(rssFile)
			argv = append([]string{timeBin, "-q", "-f", "%M", "-o", rssFile, "--"}, argv...)
		}
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start).Seconds()
	s := sample{Wall: wall}
	if cmd.ProcessState == nil {
		s.Exit = -1
		s.Stderr = err.Error()
		return s
	}
	s.Exit = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.User = tv(ru.Utime)
		s.Sys = tv(ru.Stime)
		s.MaxRSS = ru.Maxrss
	}
	if rssFile != "" {
		if b, err := os.ReadFile(rssFile); err == nil {
			f := strings.Fields(string(b))
			if len(f) > 0 {
				if v, err := strconv.ParseInt(f[len(f)-1], 10, 64); err == nil {
					s.MaxRSS = v
				}
			}
		}
	}
	if s.Exit != 0 {
		s.Stderr = truncate(stderr.String(), 2000)
	}
	return s
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// syscallCount is what one strace -c -f run reports.
type syscallCount struct {
	Total  int64            `json:"total"`
	Errors int64            `json:"errors"`
	Top    map[string]int64 `json:"top,omitempty"` // the most frequent calls (strace only)
	Method string           `json:"method"`        // strace or perf
	Err    string           `json:"error,omitempty"`
}

// straceCount runs argv under strace -c -f and parses its summary.
func straceCount(strace, tmp string, argv []string) syscallCount {
	out := filepath.Join(tmp, "strace.txt")
	os.Remove(out)
	s := measure(append([]string{strace, "-c", "-f", "-o", out, "--"}, argv...))
	if s.Exit != 0 {
		return syscallCount{Err: fmt.Sprintf("exit %d: %s", s.Exit, s.Stderr)}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return syscallCount{Err: err.Error()}
	}
	c, err := parseStrace(string(data))
	if err != nil {
		c.Err = err.Error()
	}
	c.Method = "strace"
	return c
}

// perfCount runs argv under perf stat, counting the raw_syscalls:sys_enter
// tracepoint in the command and all its descendants: the same total as
// strace -c -f at a fraction of the cost, without the per-call breakdown.
func perfCount(perf, tmp string, argv []string) syscallCount {
	out := filepath.Join(tmp, "perf.txt")
	os.Remove(out)
	s := measure(append([]string{perf, "stat", "-e", "raw_syscalls:sys_enter", "-x,", "-o", out, "--"}, argv...))
	c := syscallCount{Method: "perf"}
	if s.Exit != 0 {
		c.Err = fmt.Sprintf("exit %d: %s", s.Exit, s.Stderr)
		return c
	}
	data, err := os.ReadFile(out)
	if err != nil {
		c.Err = err.Error()
		return c
	}
	n, err := parsePerf(string(data))
	if err != nil {
		c.Err = err.Error()
	}
	c.Total = n
	return c
}

// parsePerf reads the count from perf stat -x, output: a CSV line whose
// first field is the count and third the event name.
func parsePerf(out string) (int64, error) {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, ",")
		if len(f) >= 3 && f[2] == "raw_syscalls:sys_enter" {
			return strconv.ParseInt(strings.TrimSpace(f[0]), 10, 64)
		}
	}
	return 0, fmt.Errorf("no raw_syscalls:sys_enter count in perf output")
}

// parseStrace reads strace -c output: a table of
// "% time seconds usecs/call calls [errors] syscall" rows and a "total" row.
// The errors column is blank when a call never failed.
func parseStrace(out string) (syscallCount, error) {
	type row struct {
		name  string
		calls int64
	}
	var rows []row
	c := syscallCount{Top: map[string]int64{}}
	found := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || strings.HasPrefix(f[0], "%") || strings.HasPrefix(f[0], "-") {
			continue
		}
		if _, err := strconv.ParseFloat(f[0], 64); err != nil {
			continue
		}
		calls, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			continue
		}
		var errs int64
		if len(f) >= 6 {
			errs, _ = strconv.ParseInt(f[4], 10, 64)
		}
		name := f[len(f)-1]
		if name == "total" {
			c.Total, c.Errors, found = calls, errs, true
			continue
		}
		rows = append(rows, row{name, calls})
	}
	if !found {
		return c, fmt.Errorf("no total line in strace output")
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].calls > rows[j].calls })
	for i := 0; i < len(rows) && i < 5; i++ {
		c.Top[rows[i].name] = rows[i].calls
	}
	return c, nil
}

// parallel calls fn(0..n-1) from GOMAXPROCS*2 goroutines and returns the
// first error.
func parallel(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0)*2, n)
	var (
		mu    sync.Mutex
		first error
		next  int
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// removeAll deletes dir, removing its top-level entries in parallel (a
// million-file destination takes seconds either way).
func removeAll(dir string) error {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := parallel(len(ents), func(i int) error {
		return os.RemoveAll(filepath.Join(dir, ents[i].Name()))
	}); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// median returns the median of xs (the mean of the middle two for an even
// count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// treeSummary counts regular files and bytes beneath root and notes any
// file whose mtime is not want; it is how a run's destination is checked.
func treeSummary(root string) (files int, bytes int64, err error) {
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			files++
			bytes += info.Size()
		}
		return nil
	})
	return files, bytes, err
}
