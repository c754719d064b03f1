package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// smallTree is the stats of a fresh copy of the small tree in
// testdata/capture.sh: 4 regular files, 4 directories, a symlink, a device
// and a fifo.
func smallTree() Stats {
	return Stats{
		TotalSize: 1240068, TotalTransferredSize: 1240065, LiteralData: 1240065,
		FlistBuildTime: 1,
		NumFiles:       11, NumDirs: 4, NumSymlinks: 1, NumDevices: 1, NumSpecials: 1,
		CreatedFiles: 11, CreatedDirs: 4, CreatedSymlinks: 1, CreatedDevices: 1, CreatedSpecials: 1,
		XferredFiles: 4,
	}
}

// bigTree is the stats of the dry run over sparse files in capture.sh.
func bigTree() Stats {
	return Stats{
		TotalSize: 3303904592447, TotalTransferredSize: 3303904592447,
		FlistBuildTime: 1,
		NumFiles:       4, NumDirs: 1, CreatedFiles: 4, CreatedDirs: 1,
		XferredFiles: 3,
	}
}

// updateTree is the stats of the --no-W --delete update in capture.sh.
func updateTree() Stats {
	return Stats{
		TotalSize: 1240077, TotalTransferredSize: 1234569,
		LiteralData: 297, MatchedData: 1234272,
		TotalWritten: 5026, TotalRead: 6819,
		FlistBuildTime: 1,
		NumFiles:       11, NumDirs: 4, NumSymlinks: 1, NumDevices: 1, NumSpecials: 1,
		DeletedFiles: 5, DeletedDirs: 2, DeletedSymlinks: 1,
		XferredFiles: 1,
	}
}

// dry drops the literal data a dry run never sends.
func dry(st Stats) Stats {
	st.LiteralData = 0
	return st
}

func with(st Stats, written, read int64) Stats {
	st.TotalWritten, st.TotalRead = written, read
	return st
}

// TestWriteSummaryGolden compares WriteSummary with the output of upstream
// rsync 3.5.0 captured in testdata (see capture.sh). The stats fed in are the
// numbers that run reported, including its file-list times and its elapsed
// whole seconds, so every line is compared byte for byte. For -v runs only
// the summary after the file list is compared.
func TestWriteSummaryGolden(t *testing.T) {
	start := time.Unix(1700000000, 0)
	tests := []struct {
		golden  string
		st      Stats
		level   int
		proto   int
		human   int
		dry     bool
		elapsed time.Duration
	}{
		{"copy_default", with(smallTree(), 1240755, 120), 2, 32, 1, false, 0},
		{"copy_h", with(smallTree(), 1240755, 120), 2, 32, 2, false, 0},
		{"copy_hh", with(smallTree(), 1240755, 120), 2, 32, 3, false, 0},
		{"copy_hhh", with(smallTree(), 1240755, 120), 2, 32, 4, false, 0},
		{"copy_noh", with(smallTree(), 1240755, 120), 2, 32, 0, false, 0},
		{"copy_v", with(smallTree(), 1240755, 146), 1, 32, 1, false, 0},
		{"copy_v_noh", with(smallTree(), 1240755, 146), 1, 32, 0, false, 0},
		{"copy_v_hh", with(smallTree(), 1240755, 146), 1, 32, 3, false, 0},
		{"copy_p28", with(smallTree(), 1240570, 96), 2, 28, 1, false, 0},
		{"copy_p30", with(smallTree(), 1240756, 119), 2, 30, 1, false, 0},
		{"dry_stats", with(dry(smallTree()), 238, 52), 2, 32, 1, true, 0},
		{"dry_v", with(dry(smallTree()), 238, 78), 1, 32, 1, true, 0},
		// rsync's own clock ticked a second during this run.
		{"update_stats", updateTree(), 2, 32, 1, false, time.Second},
		{"big_noh", with(bigTree(), 107, 28), 2, 32, 0, true, 0},
		{"big_default", with(bigTree(), 111, 28), 2, 32, 1, true, 0},
		{"big_h", with(bigTree(), 111, 28), 2, 32, 2, true, 0},
		{"big_hh", with(bigTree(), 111, 28), 2, 32, 3, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.golden+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			want := string(raw)
			if tt.level == 1 {
				// -v output: the file list, then "\nsent ...\ntotal ...\n".
				i := strings.LastIndex(want, "\nsent ")
				if i < 0 {
					t.Fatalf("no summary in %s", tt.golden)
				}
				want = want[i:]
			}
			// Half a second into start's second, to show whole seconds count.
			st := tt.st
			var got bytes.Buffer
			err = WriteSummary(&got, &st, SummaryOptions{
				Level: tt.level, Protocol: tt.proto, Human: tt.human, DryRun: tt.dry,
				Start: start.Add(500 * time.Millisecond), End: start.Add(tt.elapsed + 900*time.Millisecond),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != want {
				t.Errorf("output differs from rsync's\ngot:\n%s\nwant:\n%s", got.String(), want)
			}
		})
	}
}

func TestWriteSummaryLevelZeroWritesNothing(t *testing.T) {
	st := smallTree()
	var got bytes.Buffer
	if err := WriteSummary(&got, &st, SummaryOptions{Level: 0, Protocol: 32, Human: 1}); err != nil {
		t.Fatal(err)
	}
	if got.Len() != 0 {
		t.Errorf("level 0 wrote %q", got.String())
	}
}

func TestWriteSummarySuffixes(t *testing.T) {
	tests := []struct {
		dry, batchOnly bool
		want           string
	}{
		{false, false, "speedup is 1.00\n"},
		{true, false, "speedup is 1.00 (DRY RUN)\n"},
		{false, true, "speedup is 1.00 (BATCH ONLY)\n"},
		{true, true, "speedup is 1.00 (BATCH ONLY)\n"}, // batch-only wins, as in rsync
	}
	for _, tt := range tests {
		st := Stats{TotalSize: 100, TotalWritten: 60, TotalRead: 40}
		var got bytes.Buffer
		if err := WriteSummary(&got, &st, SummaryOptions{Level: 1, Human: 1, DryRun: tt.dry, BatchOnly: tt.batchOnly}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(got.String(), tt.want) {
			t.Errorf("dry=%v batchOnly=%v: got %q, want suffix %q", tt.dry, tt.batchOnly, got.String(), tt.want)
		}
	}
}

func TestWriteSummaryUnknownRate(t *testing.T) {
	st := Stats{TotalSize: 10, TotalWritten: 5, TotalRead: 5}
	var got bytes.Buffer
	if err := WriteSummary(&got, &st, SummaryOptions{Level: 1, Human: 1}); err != nil {
		t.Fatal(err)
	}
	want := "\nsent 5 bytes  received 5 bytes  UNKNOWN bytes/sec\ntotal size is 10  speedup is 1.00\n"
	if got.String() != want {
		t.Errorf("got %q, want %q", got.String(), want)
	}
}

func TestWriteSummaryWriteError(t *testing.T) {
	st := smallTree()
	err := WriteSummary(failWriter{}, &st, SummaryOptions{Level: 2, Protocol: 32, Human: 1})
	if !errors.Is(err, errFail) {
		t.Errorf("got %v, want an error wrapping %v", err, errFail)
	}
}

var errFail = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFail }

// TestBytesPerSec checks rsync's rate formula: bytes over 0.5 plus the
// difference of the two times truncated to whole seconds.
func TestBytesPerSec(t *testing.T) {
	base := time.Unix(1700000000, 0)
	tests := []struct {
		bytes      int64
		start, end time.Time
		human      int
		want       string
	}{
		{1240875, base, base, 1, "2,481,750.00"},                                            // 1240875 / 0.5
		{1240875, base.Add(999 * time.Millisecond), base.Add(time.Second), 1, "827,250.00"}, // crosses a second: / 1.5
		{1240875, base, base.Add(999 * time.Millisecond), 1, "2,481,750.00"},                // same second: / 0.5
		{11845, base, base.Add(time.Second), 1, "7,896.67"},
		{11845, base, base.Add(time.Second), 0, "7896.67"},
		{1240875, base, base, 2, "2.48M"},
		{1240875, base, base, 3, "2.37M"},
		{100, base, base.Add(10 * time.Second), 1, "9.52"},
		{100, time.Time{}, base, 1, "UNKNOWN"},
		{100, base, time.Time{}, 1, "UNKNOWN"},
	}
	for _, tt := range tests {
		if got := BytesPerSec(tt.bytes, tt.start, tt.end, tt.human); got != tt.want {
			t.Errorf("BytesPerSec(%d, %v, %v, %d) = %q, want %q", tt.bytes, tt.start, tt.end, tt.human, got, tt.want)
		}
	}
}

func TestFormatFileCounts(t *testing.T) {
	tests := []struct {
		total, dirs, links, devs, specials int64
		human                              int
		want                               string
	}{
		{0, 0, 0, 0, 0, 1, "Number of files: 0"},
		{12, 2, 1, 0, 0, 1, "Number of files: 12 (reg: 9, dir: 2, link: 1)"},
		{4, 4, 0, 0, 0, 1, "Number of files: 4 (dir: 4)"},
		{11, 4, 1, 1, 1, 1, "Number of files: 11 (reg: 4, dir: 4, link: 1, dev: 1, special: 1)"},
		{1234567, 1000, 0, 0, 0, 1, "Number of files: 1,234,567 (reg: 1,233,567, dir: 1,000)"},
		{1234567, 1000, 0, 0, 0, 0, "Number of files: 1234567 (reg: 1233567, dir: 1000)"},
		{1234567, 1000, 0, 0, 0, 3, "Number of files: 1,234,567 (reg: 1,233,567, dir: 1,000)"},
	}
	for _, tt := range tests {
		got := FormatFileCounts("Number of files", tt.total, tt.dirs, tt.links, tt.devs, tt.specials, tt.human)
		if got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
