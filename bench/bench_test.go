package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// straceSample is strace 6.1's -c -f summary, trimmed.
const straceSample = `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 41.20    0.010000           5      2000           write
 30.00    0.007000           3      2100        12 openat
 10.00    0.002000           1      1500           newfstatat
  5.00    0.001000           1       900       900 unlinkat
  2.00    0.000500           1       300           close
  1.00    0.000200           1        10           read
------ ----------- ----------- --------- --------- ----------------
100.00    0.020700           3      6810       912 total
`

func TestParseStrace(t *testing.T) {
	c, err := parseStrace(straceSample)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 6810 || c.Errors != 912 {
		t.Errorf("total %d errors %d, want 6810 912", c.Total, c.Errors)
	}
	want := map[string]int64{"openat": 2100, "write": 2000, "newfstatat": 1500, "unlinkat": 900, "close": 300}
	if !reflect.DeepEqual(c.Top, want) {
		t.Errorf("top = %v, want %v", c.Top, want)
	}
	if _, err := parseStrace("strace: exec failed\n"); err == nil {
		t.Error("output without a total line parsed without error")
	}
}

func TestParseStraceTotalWithoutErrors(t *testing.T) {
	c, err := parseStrace("100.00    0.000000           0        29           total\n")
	if err != nil || c.Total != 29 || c.Errors != 0 {
		t.Errorf("got %+v, %v; want total 29, no errors", c, err)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSelectWorkloads(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"all", []string{"T1", "T2", "T3f", "T3u", "T4", "T5", "T6", "T7"}, false},
		{"t3,T1", []string{"T1", "T3f", "T3u"}, false},
		{"T5", []string{"T5"}, false},
		{"T9", nil, true},
	} {
		ws, err := selectWorkloads(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("%q: error %v", tc.in, err)
			continue
		}
		var ids []string
		for _, w := range ws {
			ids = append(ids, w.ID)
		}
		if !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, ids, tc.want)
		}
	}
}

func TestTreeSpecsDeterministicAndSized(t *testing.T) {
	a := treeSpecs(1500, 27<<20, 7)
	b := treeSpecs(1500, 27<<20, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different trees")
	}
	var total int64
	names := map[string]bool{}
	for _, s := range a {
		total += s.Size
		names[s.Rel] = true
	}
	if len(names) != 1500 {
		t.Errorf("%d distinct names, want 1500", len(names))
	}
	if lo, hi := int64(26<<20), int64(27<<20); total < lo || total > hi {
		t.Errorf("total %d bytes, want about 27 MiB", total)
	}
}

func TestWriteSpecsAndEdits(t *testing.T) {
	dir := t.TempDir()
	specs := smallSpecs(50, 1)
	if err := writeSpecs(filepath.Join(dir, "a"), specs, true); err != nil {
		t.Fatal(err)
	}
	if err := writeSpecs(filepath.Join(dir, "b"), specs, true); err != nil {
		t.Fatal(err)
	}
	files, _, err := treeSummary(filepath.Join(dir, "a"))
	if err != nil || files != 50 {
		t.Fatalf("%d files, %v; want 50", files, err)
	}
	for _, s := range specs {
		same, err := sameContent(filepath.Join(dir, "a", s.Rel), filepath.Join(dir, "b", s.Rel))
		if err != nil || !same {
			t.Fatalf("%s differs between two generations (%v)", s.Rel, err)
		}
	}

	big := filepath.Join(dir, "big")
	if err := writeBig(big, 3<<20, 9); err != nil {
		t.Fatal(err)
	}
	edited := filepath.Join(dir, "edited")
	data, _ := os.ReadFile(big)
	if err := os.WriteFile(edited, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := applyEdits(edited, 20, 1); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(edited)
	if len(after) != len(data) {
		t.Fatalf("edits changed the size: %d -> %d", len(data), len(after))
	}
	if same, _ := sameContent(big, edited); same {
		t.Error("edits changed nothing")
	}
}

func TestReportRenders(t *testing.T) {
	c := &cell{
		Workload: "T1", Transport: "local", Tools: []string{"rsync", "gorsync"},
		Samples: map[string][]sample{
			"rsync":   {{Wall: 2}, {Wall: 4}, {Wall: 3}},
			"gorsync": {{Wall: 1}, {Wall: 1.5}, {Wall: 2, Exit: 0}},
		},
		Syscalls: map[string]syscallCount{"rsync": {Total: 1234}},
	}
	failed := &cell{
		Workload: "T2", Transport: "rsh", Tools: []string{"rsync", "gorsync"},
		Samples: map[string][]sample{
			"rsync":   {{Wall: 1}},
			"gorsync": {{Wall: 1, Exit: 12, Stderr: "protocol error"}},
		},
	}
	r := &results{Runs: 3, BigRuns: 3, Cells: []*cell{c, failed}}
	if got := c.ratio(); got != 0.5 {
		t.Errorf("ratio %v, want 0.5", got)
	}
	if got := failed.ratio(); got != 0 {
		t.Errorf("ratio of a failed cell %v, want 0", got)
	}
	tbl := r.table()
	for _, want := range []string{"| T1 | local | 3.00 | 1.50 | 0.50 |", "1,234", "1/1 failed"} {
		if !strings.Contains(tbl, want) {
			t.Errorf("table lacks %q:\n%s", want, tbl)
		}
	}
	if md := r.markdown(); !strings.Contains(md, "exit 12: protocol error") {
		t.Errorf("report does not name the failure:\n%s", md)
	}
	var doc struct{ XMLName xml.Name }
	if err := xml.Unmarshal([]byte(r.svg()), &doc); err != nil || doc.XMLName.Local != "svg" {
		t.Errorf("chart is not an SVG document: %v", err)
	}
}

func TestParsePerf(t *testing.T) {
	out := "# started on Thu Nov 26 12:31:41 2026\n\n577,,raw_syscalls:sys_enter,11814132,100.00,,\n"
	if n, err := parsePerf(out); err != nil || n != 577 {
		t.Errorf("parsePerf = %d, %v; want 577", n, err)
	}
	if _, err := parsePerf("<not counted>,,cycles,0,100.00,,\n"); err == nil {
		t.Error("output without the tracepoint parsed without error")
	}
}
