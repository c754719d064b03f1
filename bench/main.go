// Command bench compares gorsync with upstream rsync on the workloads of the
// project's benchmark issue (T1–T7), over a local copy and a remote shell,
// and writes a Markdown report, a JSON file and an SVG chart.
//
// Usage, from the module root:
//
//	go run ./bench [-quick] [-runs N] [-out DIR] [-workloads T1,T2,...] [-transports local,rsh]
//
// See bench/README.md for what each column means.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is the parsed command line.
type config struct {
	Quick      bool
	Runs       int
	BigRuns    int
	Out        string
	Scratch    string
	Workloads  []workload
	Transports []string
	Syscalls   string // auto, strace, perf or off
	Keep       bool
}

// env is what the runs need: tools, scratch paths and the sizes in use.
type env struct {
	cfg     config
	sizes   sizes
	rsync   string
	gorsync string
	strace  string // strace, when it can trace here
	perf    string // perf, when it can count the raw_syscalls:sys_enter tracepoint
	wrapper string // the -e remote shell: drops the host and runs the command
	scratch string
	reflink bool // cp --reflink=always works on the scratch filesystem
	notes   []string
}

// cell is one (workload, transport) pair: the runs of every tool in it.
type cell struct {
	Workload  string                  `json:"workload"`
	Title     string                  `json:"title"`
	Transport string                  `json:"transport"`
	Args      []string                `json:"args"`
	Files     int                     `json:"files"`
	Bytes     int64                   `json:"bytes"`
	Tools     []string                `json:"tools"`
	Samples   map[string][]sample     `json:"samples"`
	Syscalls  map[string]syscallCount `json:"syscalls,omitempty"`
	Verified  map[string]string       `json:"verified,omitempty"` // tool -> "ok" or what differed
	Commands  map[string]string       `json:"commands"`
	PerFile   bool                    `json:"per_file,omitempty"`
}

func main() {
	log.SetFlags(log.Ltime)
	var (
		cfg        config
		workloads  string
		transports string
		render     string
	)
	flag.BoolVar(&cfg.Quick, "quick", false, "small workloads and 3 runs: a smoke test in under a minute")
	flag.IntVar(&cfg.Runs, "runs", 0, "runs per tool and cell (default 5, 3 with -quick)")
	flag.IntVar(&cfg.BigRuns, "big-runs", 0, "runs per tool for the 1 GiB and million-file workloads T4, T5, T7 (default -runs)")
	flag.StringVar(&cfg.Out, "out", "", "results directory (default bench/results/<timestamp>)")
	flag.StringVar(&cfg.Scratch, "scratch", "", "scratch directory for workload data (default /dev/shm/gorsync-bench when /dev/shm is a tmpfs with 8 GiB free, else $TMPDIR/gorsync-bench)")
	flag.StringVar(&workloads, "workloads", "all", "comma-separated workloads: T1,T2,T3 (=T3f,T3u),T4,T5,T6,T7; T8 (--bwlimit) only when named")
	flag.StringVar(&transports, "transports", "local,rsh", "comma-separated transports: local, rsh (daemon is not implemented by gorsync yet)")
	flag.StringVar(&cfg.Syscalls, "syscalls", "auto", "how to count syscalls in one extra run per cell and tool: strace (strace -c -f), perf (perf stat on the raw_syscalls:sys_enter tracepoint), off, or auto (strace, but perf for workloads of more than 50,000 files, where strace takes minutes)")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep generated workload data in the scratch directory and reuse it in the next invocation")
	fastio := flag.String("fastio", "", "run gorsync with GORSYNC_FASTIO set to this (e.g. all=off, uring=on); the report records it")
	flag.StringVar(&render, "render", "", "re-render report.md and chart.svg in DIR from its results.json, without running anything")
	flag.Parse()
	if *fastio != "" {
		os.Setenv("GORSYNC_FASTIO", *fastio)
	}

	if render != "" {
		if err := rerender(render); err != nil {
			log.Fatal(err)
		}
		return
	}

	var err error
	if cfg.Workloads, err = selectWorkloads(workloads); err != nil {
		log.Fatal(err)
	}
	for _, t := range strings.Split(transports, ",") {
		switch t = strings.TrimSpace(t); t {
		case "local", "rsh":
			cfg.Transports = append(cfg.Transports, t)
		case "daemon":
			log.Print("daemon transport skipped: gorsync has no daemon mode yet")
		default:
			log.Fatalf("unknown transport %q", t)
		}
	}
	if cfg.Runs == 0 {
		cfg.Runs = 5
		if cfg.Quick {
			cfg.Runs = 3
		}
	}
	if cfg.BigRuns == 0 {
		cfg.BigRuns = cfg.Runs
	}
	if err := run(cfg); err != nil {
		log.Fatal(err)
	}
}

func run(cfg config) error {
	suiteStart := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	e := &env{cfg: cfg, sizes: fullSizes}
	if cfg.Quick {
		e.sizes = quickSizes
	}
	if err := e.prerequisites(); err != nil {
		return err
	}
	if cfg.Scratch == "" {
		name := "gorsync-bench"
		if cfg.Quick {
			name += "-quick"
		}
		cfg.Scratch = filepath.Join(os.TempDir(), name)
		var st syscall.Statfs_t
		const tmpfsMagic = 0x01021994
		if syscall.Statfs("/dev/shm", &st) == nil && st.Type == tmpfsMagic && st.Bavail*uint64(st.Bsize) >= 8<<30 {
			cfg.Scratch = filepath.Join("/dev/shm", name)
		}
	}
	e.scratch = cfg.Scratch
	if err := os.MkdirAll(filepath.Join(e.scratch, "bin"), 0o755); err != nil {
		return err
	}
	if !cfg.Keep {
		defer removeAll(e.scratch)
	}

	log.Print("building gorsync")
	e.gorsync = filepath.Join(e.scratch, "bin", "gorsync")
	build := exec.Command("go", "build", "-o", e.gorsync, "./cmd/gorsync")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/gorsync: %w", err)
	}
	e.wrapper = filepath.Join(e.scratch, "bin", "localrsh")
	// rsync runs "<rsh> <host> <rsync-path> --server ...": drop the host and
	// let a shell split the command as sshd would.
	if err := os.WriteFile(e.wrapper, []byte("#!/bin/sh\nshift\nexec sh -c \"$*\"\n"), 0o755); err != nil {
		return err
	}
	e.reflink = probeReflink(e.scratch)

	m := describeMachine(root, e)
	if cfg.Out == "" {
		cfg.Out = filepath.Join(root, "bench", "results", time.Now().Format("2006-01-02T150405"))
	}

	var cells []*cell
	for _, w := range cfg.Workloads {
		genStart := time.Now()
		if err := e.prepare(w); err != nil {
			return fmt.Errorf("prepare %s: %w", w.ID, err)
		}
		log.Printf("%s: data ready in %.1fs", w.ID, time.Since(genStart).Seconds())
		for _, t := range cfg.Transports {
			c, err := e.runCell(w, t)
			if err != nil {
				return fmt.Errorf("%s over %s: %w", w.ID, t, err)
			}
			cells = append(cells, c)
			fmt.Fprintln(os.Stderr, summaryLine(c))
		}
		removeAll(filepath.Join(e.scratch, "dst"))
		if !cfg.Keep && !usedLater(cfg.Workloads, w) {
			// Free the memory (tmpfs) or disk this source took.
			removeAll(e.srcDir(w.Src))
			removeAll(filepath.Join(e.scratch, "synced", w.Src))
			os.Remove(e.srcDir(w.Src) + ".done")
			if w.Src == "big" {
				os.Remove(filepath.Join(e.scratch, "edited.bin"))
			}
		}
	}

	m.LoadEnd = loadavg()
	res := &results{
		Machine:  m,
		Quick:    cfg.Quick,
		Runs:     cfg.Runs,
		BigRuns:  cfg.BigRuns,
		Sizes:    e.sizes,
		Cells:    cells,
		Notes:    e.notes,
		Started:  suiteStart.UTC().Format(time.RFC3339),
		Duration: time.Since(suiteStart).Seconds(),
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	if err := res.write(cfg.Out); err != nil {
		return err
	}
	fmt.Println(res.table())
	log.Printf("suite took %s; report in %s", time.Since(suiteStart).Round(time.Second), cfg.Out)
	return nil
}

// rerender rewrites a results directory's report and chart from its
// results.json, so a change in presentation needs no new runs.
func rerender(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if err := res.write(dir); err != nil {
		return err
	}
	fmt.Println(res.table())
	return nil
}

// usedLater reports whether a workload after w reads the same source.
func usedLater(ws []workload, w workload) bool {
	after := false
	for _, x := range ws {
		if after && x.Src == w.Src {
			return true
		}
		after = after || x.ID == w.ID
	}
	return false
}

// moduleRoot finds the gorsync module root: the directory holding go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run from inside the gorsync module")
	}
	return filepath.Dir(mod), nil
}

// prerequisites finds rsync and strace, installing them with apt-get when
// missing and running as root.
func (e *env) prerequisites() error {
	need := []string{"rsync", "/usr/bin/time"}
	if e.cfg.Syscalls != "off" {
		need = append(need, "strace")
	}
	var missing []string
	for _, n := range need {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, filepath.Base(n)) // the Debian package is "time"
		}
	}
	if len(missing) > 0 {
		if os.Geteuid() == 0 {
			if _, err := exec.LookPath("apt-get"); err == nil {
				log.Printf("installing %s with apt-get", strings.Join(missing, " "))
				for _, args := range [][]string{{"update"}, append([]string{"install", "-y"}, missing...)} {
					c := exec.Command("apt-get", args...)
					c.Stdout, c.Stderr = os.Stderr, os.Stderr
					c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
					if err := c.Run(); err != nil {
						return fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
					}
				}
			}
		}
	}
	var err error
	if e.rsync, err = exec.LookPath("rsync"); err != nil {
		return fmt.Errorf("upstream rsync not found: install it (apt-get install rsync, as root) and run again")
	}
	if timeBin, err = exec.LookPath("/usr/bin/time"); err != nil {
		e.note("GNU time (/usr/bin/time) not found (apt-get install time): peak RSS includes the benchmark's own memory")
	}
	if e.cfg.Syscalls == "auto" || e.cfg.Syscalls == "perf" {
		if p, err := exec.LookPath("perf"); err == nil {
			if exec.Command(p, "stat", "-e", "raw_syscalls:sys_enter", "-x,", "-o", os.DevNull, "--", "true").Run() == nil {
				e.perf = p
			}
		}
		if e.perf == "" {
			e.note("perf cannot count the raw_syscalls:sys_enter tracepoint here: strace counts every syscall")
		}
	}
	if e.cfg.Syscalls != "off" {
		if e.strace, err = exec.LookPath("strace"); err != nil {
			e.note("strace not found (install it as root with apt-get install strace): no syscall counts")
		} else if out, err := exec.Command(e.strace, "-c", "-f", "-o", os.DevNull, "true").CombinedOutput(); err != nil {
			e.note(fmt.Sprintf("strace cannot trace here (%v: %s): no syscall counts", err, bytes.TrimSpace(out)))
			e.strace = ""
		}
	}
	return nil
}

func (e *env) note(s string) {
	log.Print(s)
	e.notes = append(e.notes, s)
}

// probeReflink reports whether cp --reflink=always works in dir.
func probeReflink(dir string) bool {
	a, b := filepath.Join(dir, "reflink-a"), filepath.Join(dir, "reflink-b")
	defer os.Remove(a)
	defer os.Remove(b)
	if os.WriteFile(a, []byte("x"), 0o644) != nil {
		return false
	}
	return exec.Command("cp", "--reflink=always", a, b).Run() == nil
}

// srcDir is where a source kind lives in the scratch directory.
func (e *env) srcDir(kind string) string { return filepath.Join(e.scratch, "src", kind) }

// prepare generates the workload's source (once; a marker file records the
// parameters so a later invocation reuses it) and any fixed destination.
func (e *env) prepare(w workload) error {
	src := e.srcDir(w.Src)
	var spec string
	var gen func() error
	s := e.sizes
	switch w.Src {
	case "tree":
		spec = fmt.Sprintf("tree v1 %d %d", s.TreeFiles, s.TreeBytes)
		gen = func() error { return writeSpecs(src, treeSpecs(s.TreeFiles, s.TreeBytes, 20261126), true) }
	case "small":
		spec = fmt.Sprintf("small v1 %d", s.SmallFiles)
		gen = func() error { return writeSpecs(src, smallSpecs(s.SmallFiles, 20261127), true) }
	case "big":
		spec = fmt.Sprintf("big v1 %d", s.BigBytes)
		gen = func() error {
			if err := os.MkdirAll(src, 0o755); err != nil {
				return err
			}
			if err := writeBig(filepath.Join(src, "big.bin"), s.BigBytes, 20261128); err != nil {
				return err
			}
			return os.Chtimes(src, fixedTime, fixedTime)
		}
	case "bw":
		spec = fmt.Sprintf("bw v1 %d", bwBytes)
		gen = func() error {
			if err := os.MkdirAll(src, 0o755); err != nil {
				return err
			}
			if err := writeBig(filepath.Join(src, "bw.bin"), bwBytes, 20261129); err != nil {
				return err
			}
			return os.Chtimes(src, fixedTime, fixedTime)
		}
	case "empty":
		spec = fmt.Sprintf("empty v1 %d", s.EmptyFiles)
		gen = func() error { return writeSpecs(src, emptySpecs(s.EmptyFiles), false) }
	}
	marker := src + ".done"
	if b, err := os.ReadFile(marker); err != nil || string(b) != spec {
		log.Printf("%s: generating %s", w.ID, spec)
		os.Remove(marker)
		if err := removeAll(src); err != nil {
			return err
		}
		if err := gen(); err != nil {
			return err
		}
		if err := os.WriteFile(marker, []byte(spec), 0o644); err != nil {
			return err
		}
		// Dependent fixtures are stale now.
		removeAll(filepath.Join(e.scratch, "synced", w.Src))
		os.Remove(filepath.Join(e.scratch, "edited.bin"))
	}
	switch w.Reset {
	case resetUnchanged:
		dst := filepath.Join(e.scratch, "synced", w.Src)
		if _, err := os.Stat(dst); err != nil {
			log.Printf("%s: syncing the unchanged destination with upstream rsync", w.ID)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if out, err := exec.Command(e.rsync, "-a", src+"/", dst+"/").CombinedOutput(); err != nil {
				return fmt.Errorf("rsync -a: %v: %s", err, out)
			}
		}
	case resetEdited:
		ed := filepath.Join(e.scratch, "edited.bin")
		if _, err := os.Stat(ed); err != nil {
			log.Printf("%s: making the edited destination (%d edits)", w.ID, s.Edits)
			if out, err := exec.Command("cp", "--reflink=auto", "-a", filepath.Join(src, "big.bin"), ed).CombinedOutput(); err != nil {
				return fmt.Errorf("cp: %v: %s", err, out)
			}
			if err := applyEdits(ed, s.Edits, 20261129); err != nil {
				return err
			}
		}
	}
	return nil
}

// resetDst puts the destination in the state the workload starts from and
// returns it. Dirty pages are flushed so that one run's writeback does not
// land in the next run's time.
func (e *env) resetDst(w workload) (string, error) {
	var dst string
	switch w.Reset {
	case resetUnchanged:
		dst = filepath.Join(e.scratch, "synced", w.Src)
	case resetFresh:
		dst = filepath.Join(e.scratch, "dst", w.Src)
		if err := removeAll(dst); err != nil {
			return "", err
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return "", err
		}
	case resetEdited:
		dst = filepath.Join(e.scratch, "dst", w.Src)
		if err := removeAll(dst); err != nil {
			return "", err
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return "", err
		}
		if out, err := exec.Command("cp", "--reflink=auto", "-a", filepath.Join(e.scratch, "edited.bin"), filepath.Join(dst, "big.bin")).CombinedOutput(); err != nil {
			return "", fmt.Errorf("cp: %v: %s", err, out)
		}
	}
	syscall.Sync()
	return dst, nil
}

// argv builds the command line of tool for a workload over a transport.
func (e *env) argv(tool, transport string, w workload, src, dst string) []string {
	switch tool {
	case "cp":
		return []string{"cp", "--reflink=never", "-a", filepath.Join(src, "big.bin"), dst + "/"}
	case "cp-reflink":
		return []string{"cp", "--reflink=always", "-a", filepath.Join(src, "big.bin"), dst + "/"}
	}
	bin := e.rsync
	if tool == "gorsync" {
		bin = e.gorsync
	}
	args := append([]string{bin, "-a"}, w.Args...)
	if transport == "rsh" {
		args = append(args, "-e", e.wrapper, "--rsync-path="+bin)
		dst = "localhost:" + dst
	}
	return append(args, src+"/", dst+"/")
}

// runCell runs every tool of a workload over a transport, alternating them
// (the order flips each round so neither tool always follows the other),
// then one more run each to count syscalls.
func (e *env) runCell(w workload, transport string) (*cell, error) {
	src := e.srcDir(w.Src)
	files, bytes, err := treeSummary(src)
	if err != nil {
		return nil, err
	}
	tools := []string{"rsync", "gorsync"}
	if w.Cp && transport == "local" {
		tools = append(tools, "cp")
		if e.reflink {
			tools = append(tools, "cp-reflink")
		}
	}
	c := &cell{
		Workload: w.ID, Title: w.Title, Transport: transport, Args: append([]string{"-a"}, w.Args...),
		Files: files, Bytes: bytes, Tools: tools, PerFile: w.PerFile,
		Samples:  map[string][]sample{},
		Syscalls: map[string]syscallCount{},
		Verified: map[string]string{},
		Commands: map[string]string{},
	}
	runs := e.cfg.Runs
	if w.ID == "T4" || w.ID == "T5" || w.ID == "T7" {
		runs = e.cfg.BigRuns
	}
	ordinal := 0
	for i := range runs {
		order := append([]string(nil), tools...)
		if i%2 == 1 {
			for a, b := 0, len(order)-1; a < b; a, b = a+1, b-1 {
				order[a], order[b] = order[b], order[a]
			}
		}
		for _, tool := range order {
			dst, err := e.resetDst(w)
			if err != nil {
				return nil, err
			}
			argv := e.argv(tool, transport, w, src, dst)
			c.Commands[tool] = displayCommand(argv, e)
			s := measure(argv)
			s.Ordinal = ordinal
			ordinal++
			c.Samples[tool] = append(c.Samples[tool], s)
			log.Printf("%s %s %-10s run %d: %.2fs cpu %.2fs rss %d KiB exit %d", w.ID, transport, tool, i+1, s.Wall, s.User+s.Sys, s.MaxRSS, s.Exit)
			if s.Exit != 0 {
				log.Printf("  stderr: %s", s.Stderr)
			}
			if _, done := c.Verified[tool]; !done && w.Reset != resetUnchanged && !slices.Contains(w.Args, "-n") {
				c.Verified[tool] = verify(src, dst, w)
			}
		}
	}
	if counter := e.syscallCounter(files); counter != "" {
		for _, tool := range tools {
			dst, err := e.resetDst(w)
			if err != nil {
				return nil, err
			}
			argv := e.argv(tool, transport, w, src, dst)
			if counter == "perf" {
				c.Syscalls[tool] = perfCount(e.perf, e.scratch, argv)
			} else {
				c.Syscalls[tool] = straceCount(e.strace, e.scratch, argv)
			}
		}
	}
	return c, nil
}

// syscallCounter picks the syscall counter for a workload of files files:
// "strace", "perf" or "" for none.
func (e *env) syscallCounter(files int) string {
	switch e.cfg.Syscalls {
	case "strace":
		if e.strace != "" {
			return "strace"
		}
	case "perf":
		if e.perf != "" {
			return "perf"
		}
	case "auto":
		if e.perf != "" && (files > 50000 || e.strace == "") {
			return "perf"
		}
		if e.strace != "" {
			return "strace"
		}
	}
	return ""
}

// displayCommand shortens scratch paths so the report's commands read well.
func displayCommand(argv []string, e *env) string {
	s := strings.Join(argv, " ")
	s = strings.ReplaceAll(s, e.gorsync, "gorsync")
	s = strings.ReplaceAll(s, e.wrapper, "localrsh")
	s = strings.ReplaceAll(s, e.scratch+"/", "")
	return s
}

// verify checks that a run left the destination equal to the source in file
// count and bytes, and for the big file in content too.
func verify(src, dst string, w workload) string {
	sf, sb, err := treeSummary(src)
	if err != nil {
		return err.Error()
	}
	df, db, err := treeSummary(dst)
	if err != nil {
		return err.Error()
	}
	if sf != df || sb != db {
		return fmt.Sprintf("destination has %d files / %d bytes, source %d / %d", df, db, sf, sb)
	}
	if w.Src == "big" {
		same, err := sameContent(filepath.Join(src, "big.bin"), filepath.Join(dst, "big.bin"))
		if err != nil {
			return err.Error()
		}
		if !same {
			return "big.bin content differs"
		}
	}
	return "ok"
}

func sameContent(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ba, bb := make([]byte, 4<<20), make([]byte, 4<<20)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == ea, nil
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil {
			return false, eb
		}
	}
}
