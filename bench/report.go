package main

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
)

// results is everything one invocation measured; it is written as
// results.json and rendered as report.md and chart.svg.
type results struct {
	Machine  machine  `json:"machine"`
	Quick    bool     `json:"quick"`
	Runs     int      `json:"runs"`
	BigRuns  int      `json:"big_runs"`
	Sizes    sizes    `json:"sizes"`
	Cells    []*cell  `json:"cells"`
	Notes    []string `json:"notes,omitempty"`
	Started  string   `json:"started"`
	Duration float64  `json:"duration_s"`
}

// stat is the summary of one tool's runs in a cell.
type stat struct {
	N        int
	Wall     float64 // median
	Min, Max float64
	CPU      float64 // median user+sys
	RSS      float64 // median of the per-run peak RSS, MiB
	Failed   int     // runs with a non-zero exit
}

func (c *cell) stat(tool string) (stat, bool) {
	ss := c.Samples[tool]
	if len(ss) == 0 {
		return stat{}, false
	}
	var wall, cpu, rss []float64
	st := stat{N: len(ss), Min: ss[0].Wall, Max: ss[0].Wall}
	for _, s := range ss {
		wall = append(wall, s.Wall)
		cpu = append(cpu, s.User+s.Sys)
		rss = append(rss, float64(s.MaxRSS)/1024)
		st.Min, st.Max = min(st.Min, s.Wall), max(st.Max, s.Wall)
		if s.Exit != 0 {
			st.Failed++
		}
	}
	st.Wall, st.CPU, st.RSS = median(wall), median(cpu), median(rss)
	return st, true
}

// ratio is gorsync's median wall time over rsync's; 0 when either is
// missing or failed.
func (c *cell) ratio() float64 {
	r, ok1 := c.stat("rsync")
	g, ok2 := c.stat("gorsync")
	if !ok1 || !ok2 || r.Wall == 0 || r.Failed > 0 || g.Failed > 0 {
		return 0
	}
	return g.Wall / r.Wall
}

func (c *cell) label() string { return c.Workload + " " + c.Transport }

func (r *results) write(dir string) error {
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(j, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "chart.svg"), []byte(r.svg()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.markdown()), 0o644)
}

func fmtCount(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}

func (c *cell) syscalls(tool string) string {
	sc, ok := c.Syscalls[tool]
	if !ok {
		return "–"
	}
	if sc.Err != "" {
		return "error"
	}
	if sc.Method == "perf" {
		return fmtCount(sc.Total) + " (perf)"
	}
	return fmtCount(sc.Total)
}

func (c *cell) cpuAndRSS(tool string) (string, string) {
	s, ok := c.stat(tool)
	if !ok {
		return "–", "–"
	}
	return fmt.Sprintf("%.2f", s.CPU), fmt.Sprintf("%.1f", s.RSS)
}

// table is the summary table: one row per cell, rsync and gorsync side by
// side.
func (r *results) table() string {
	var b strings.Builder
	b.WriteString("| workload | transport | rsync s | gorsync s | gorsync/rsync | rsync CPU s | gorsync CPU s | rsync RSS MiB | gorsync RSS MiB | rsync syscalls | gorsync syscalls |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range r.Cells {
		rs, _ := c.stat("rsync")
		gs, _ := c.stat("gorsync")
		ratio := "n/a"
		if x := c.ratio(); x > 0 {
			ratio = fmt.Sprintf("%.2f", x)
		}
		rc, rr := c.cpuAndRSS("rsync")
		gc, gr := c.cpuAndRSS("gorsync")
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			c.Workload, c.Transport, wallCell(rs), wallCell(gs), ratio, rc, gc, rr, gr,
			c.syscalls("rsync"), c.syscalls("gorsync"))
	}
	return b.String()
}

func wallCell(s stat) string {
	if s.N == 0 {
		return "–"
	}
	if s.Failed > 0 {
		return fmt.Sprintf("%.2f (%d/%d failed)", s.Wall, s.Failed, s.N)
	}
	return fmt.Sprintf("%.2f", s.Wall)
}

func (r *results) markdown() string {
	var b strings.Builder
	m := r.Machine
	b.WriteString("# gorsync vs upstream rsync\n\n")
	if r.Quick {
		b.WriteString("**Quick (smoke-test) sizes: these numbers say little about performance.**\n\n")
	}
	fmt.Fprintf(&b, "Started %s; the whole suite (generation, resets, timed runs, syscall-count runs) took %.1f minutes.\n\n", r.Started, r.Duration/60)
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d cores\n- Memory: %.1f GiB\n- OS: %s; kernel %s\n", m.CPU, m.Cores, m.MemoryGiB, m.OS, m.Kernel)
	fmt.Fprintf(&b, "- Scratch directory %s on %s (reflinks: %v)\n", m.Scratch, m.Filesystem, m.Reflink)
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min) at start: %s; at end: %s\n", m.LoadStart, m.LoadEnd)
	fmt.Fprintf(&b, "- %s\n- %s\n- gorsync commit %s\n", m.Go, m.Rsync, m.Gorsync)
	if m.FastIO != "" {
		fmt.Fprintf(&b, "- gorsync's fast paths: GORSYNC_FASTIO=%s\n", m.FastIO)
	} else {
		b.WriteString("- gorsync's fast paths: defaults (GORSYNC_FASTIO unset)\n")
	}
	if m.Strace != "" {
		fmt.Fprintf(&b, "- %s\n", m.Strace)
	}
	b.WriteString("\n## Summary\n\n")
	fmt.Fprintf(&b, "Medians of %d runs per tool (%d for T4, T5, T7), runs alternating between the tools. ", r.Runs, r.BigRuns)
	b.WriteString("Ratio < 1 means gorsync is faster. CPU is user+sys of the whole process tree; RSS is the largest peak RSS of any one process in the tree (see bench/README.md); syscalls come from one extra run under `strace -c -f`, or, where marked (perf), `perf stat -e raw_syscalls:sys_enter` (same total, for workloads where strace would take minutes).\n\n")
	b.WriteString(r.table())
	b.WriteString("\nRSS counts the file pages a process maps, not only its heap: a tool that maps a 1 GiB file to read it shows about 1 GiB.\n")
	b.WriteString("\n![gorsync/rsync median time](chart.svg)\n\n")

	var faster, slower []string
	for _, c := range r.Cells {
		x := c.ratio()
		switch {
		case x == 0:
		case x < 0.95:
			faster = append(faster, fmt.Sprintf("%s (%.2f×)", c.label(), x))
		case x > 1.05:
			slower = append(slower, fmt.Sprintf("%s (%.2f×)", c.label(), x))
		}
	}
	b.WriteString("## Reading\n\n")
	fmt.Fprintf(&b, "- gorsync faster than rsync by more than 5%%: %s\n", orNone(faster))
	fmt.Fprintf(&b, "- gorsync slower than rsync by more than 5%%: %s\n", orNone(slower))
	for _, c := range r.Cells {
		for _, tool := range c.Tools {
			if s, ok := c.stat(tool); ok && s.Failed > 0 {
				fmt.Fprintf(&b, "- **%s %s: %d of %d runs failed** (first error: `%s`)\n", c.label(), tool, s.Failed, s.N, firstFailure(c.Samples[tool]))
			}
			if v, ok := c.Verified[tool]; ok && v != "ok" {
				fmt.Fprintf(&b, "- **%s %s: wrong result: %s**\n", c.label(), tool, v)
			}
		}
	}
	for _, c := range r.Cells {
		cp, ok := c.stat("cp")
		if !ok {
			continue
		}
		rs, _ := c.stat("rsync")
		gs, _ := c.stat("gorsync")
		line := fmt.Sprintf("- %s: `cp --reflink=never -a` takes %.2f s (rsync %.2f s, gorsync %.2f s)", c.label(), cp.Wall, rs.Wall, gs.Wall)
		if cr, ok := c.stat("cp-reflink"); ok {
			line += fmt.Sprintf("; `cp --reflink=always` %.2f s", cr.Wall)
		} else {
			line += "; reflinks are not available on this filesystem"
		}
		b.WriteString(line + ".\n")
	}
	if load := loadOf(m.LoadStart); load > 0.5*float64(m.Cores) {
		fmt.Fprintf(&b, "- Other processes were running (load average %.1f on %d cores at the start): expect noise; compare min and max below.\n", load, m.Cores)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("- Daemon transport: not measured; gorsync has no daemon mode yet.\n")

	// Per-file memory for T7.
	var perFile []*cell
	for _, c := range r.Cells {
		if c.PerFile {
			perFile = append(perFile, c)
		}
	}
	if len(perFile) > 0 {
		b.WriteString("\n## File-list memory (T7)\n\n| transport | files | rsync peak RSS MiB | rsync bytes/file | gorsync peak RSS MiB | gorsync bytes/file |\n|---|--:|--:|--:|--:|--:|\n")
		for _, c := range perFile {
			rs, _ := c.stat("rsync")
			gs, _ := c.stat("gorsync")
			fmt.Fprintf(&b, "| %s | %s | %.1f | %.0f | %.1f | %.0f |\n", c.Transport, fmtCount(int64(c.Files)),
				rs.RSS, rs.RSS*(1<<20)/float64(c.Files), gs.RSS, gs.RSS*(1<<20)/float64(c.Files))
		}
		b.WriteString("\nBytes/file is the whole peak RSS (binary, runtime and buffers included) divided by the number of files, so it is an upper bound on the file list's cost per entry. rsync's incremental recursion keeps only part of its list in memory at once.\n")
	}

	b.WriteString("\n## Workloads\n\n")
	fmt.Fprintf(&b, "| id | what | source | options |\n|---|---|---|---|\n")
	seen := map[string]bool{}
	for _, c := range r.Cells {
		if seen[c.Workload] {
			continue
		}
		seen[c.Workload] = true
		fmt.Fprintf(&b, "| %s | %s | %s files, %.1f MiB | `%s` |\n", c.Workload, c.Title, fmtCount(int64(c.Files)), float64(c.Bytes)/(1<<20), strings.Join(c.Args, " "))
	}

	b.WriteString("\n## Every cell\n\nWall-time median, min and max in seconds; every run is kept.\n\n| cell | tool | runs | median | min | max | CPU s | RSS MiB | syscalls | top syscalls | check |\n|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|\n")
	for _, c := range r.Cells {
		for _, tool := range c.Tools {
			s, ok := c.stat(tool)
			if !ok {
				continue
			}
			check := c.Verified[tool]
			if check == "" {
				check = "–"
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %.3f | %.3f | %.3f | %.2f | %.1f | %s | %s | %s |\n",
				c.label(), tool, s.N, s.Wall, s.Min, s.Max, s.CPU, s.RSS, c.syscalls(tool), topCalls(c.Syscalls[tool]), check)
		}
	}
	b.WriteString("\n## Commands\n\nPaths are relative to the scratch directory; `localrsh` is the remote-shell wrapper (`shift; exec sh -c \"$*\"`).\n\n")
	for _, c := range r.Cells {
		for _, tool := range c.Tools {
			fmt.Fprintf(&b, "- %s %s: `%s`\n", c.label(), tool, c.Commands[tool])
		}
	}
	return b.String()
}

// loadOf returns the 1-minute figure of a loadavg string, 0 if unreadable.
func loadOf(s string) float64 {
	var v float64
	fmt.Sscan(s, &v)
	return v
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

func firstFailure(ss []sample) string {
	for _, s := range ss {
		if s.Exit != 0 {
			return fmt.Sprintf("exit %d: %s", s.Exit, strings.Join(strings.Fields(truncate(s.Stderr, 200)), " "))
		}
	}
	return ""
}

func topCalls(sc syscallCount) string {
	type kv struct {
		k string
		v int64
	}
	var xs []kv
	for k, v := range sc.Top {
		xs = append(xs, kv{k, v})
	}
	for i := range xs {
		for j := i + 1; j < len(xs); j++ {
			if xs[j].v > xs[i].v || (xs[j].v == xs[i].v && xs[j].k < xs[i].k) {
				xs[i], xs[j] = xs[j], xs[i]
			}
		}
	}
	var parts []string
	for i, x := range xs {
		if i == 3 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s", x.k, fmtCount(x.v)))
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}

// summaryLine is printed to stderr as each cell finishes.
func summaryLine(c *cell) string {
	r, _ := c.stat("rsync")
	g, _ := c.stat("gorsync")
	return fmt.Sprintf("== %-4s %-5s rsync %.2fs  gorsync %.2fs  ratio %.2f", c.Workload, c.Transport, r.Wall, g.Wall, c.ratio())
}

// svg draws one horizontal bar per cell: gorsync's median time over
// rsync's, on a linear axis with a line at 1.0.
func (r *results) svg() string {
	const (
		left, right, top, rowH, barH = 130.0, 70.0, 50.0, 26.0, 16.0
		plotW                        = 520.0
	)
	maxX := 2.0
	for _, c := range r.Cells {
		maxX = max(maxX, c.ratio()*1.1)
	}
	width := left + plotW + right
	height := top + rowH*float64(len(r.Cells)) + 40
	x := func(v float64) float64 { return left + plotW*v/maxX }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := "gorsync / rsync, median wall time (lower is better)"
	if r.Quick {
		title += " — quick sizes"
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	// Grid and axis labels every 0.5.
	for v := 0.0; v <= maxX+1e-9; v += 0.5 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/>`+"\n", x(v), top-6, x(v), height-34)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555">%.1f</text>`+"\n", x(v), height-18, v)
	}
	for i, c := range r.Cells {
		y := top + rowH*float64(i)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, y+barH-4, html.EscapeString(c.label()))
		v := c.ratio()
		if v == 0 {
			fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" fill="#a00">no ratio (a run failed)</text>`+"\n", left+4, y+barH-4)
			continue
		}
		color := "#2a7ab8"
		if v > 1 {
			color = "#d0643a"
		}
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.1f" width="%.1f" height="%.0f" fill="%s"/>`+"\n", left, y, x(v)-left, barH, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%.2f</text>`+"\n", x(v)+4, y+barH-4, v)
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="black" stroke-width="1.5" stroke-dasharray="4 3"/>`+"\n", x(1), top-10, x(1), height-34)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">1.0 = same as rsync</text>`+"\n", x(1), top-14)
	b.WriteString("</svg>\n")
	return b.String()
}
