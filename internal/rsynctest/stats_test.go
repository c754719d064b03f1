package rsynctest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseStatsGolden(t *testing.T) {
	seven := Counts{Total: 7, Reg: 2, Dir: 2, Link: 1, Dev: 1, Special: 1}
	cases := []struct {
		file string
		want Stats
	}{
		{"stats-initial.txt", Stats{
			NumFiles: seven, CreatedFiles: seven, RegularFilesTransferred: 2,
			TotalFileSize: 1234571, TotalTransferredFileSize: 1234570,
			LiteralData: 1234570, TotalBytesSent: 1235126, TotalBytesReceived: 74,
			Sent: 1235126, Received: 74, TotalSize: 1234571,
		}},
		{"stats-delta-verbose.txt", Stats{
			NumFiles: seven, RegularFilesTransferred: 1,
			TotalFileSize: 1234574, TotalTransferredFileSize: 1234570,
			LiteralData: 298, MatchedData: 1234272, TotalBytesSent: 4976, TotalBytesReceived: 6750,
			Sent: 4976, Received: 6750, TotalSize: 1234574,
		}},
		{"stats-no-human.txt", Stats{
			NumFiles: seven, RegularFilesTransferred: 1,
			TotalFileSize: 1234576, TotalTransferredFileSize: 1234572,
			LiteralData: 300, MatchedData: 1234272, TotalBytesSent: 4978, TotalBytesReceived: 6750,
			Sent: 4978, Received: 6750, TotalSize: 1234576,
		}},
		{"stats-protocol30.txt", Stats{
			NumFiles: seven, RegularFilesTransferred: 1,
			TotalFileSize: 1234578, TotalTransferredFileSize: 1234574,
			LiteralData: 302, MatchedData: 1234272, TotalBytesSent: 4953, TotalBytesReceived: 6749,
			Sent: 4953, Received: 6749, TotalSize: 1234578,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseStats(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ParseStats =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestParseStatsRejects(t *testing.T) {
	units, err := os.ReadFile(filepath.Join("testdata", "stats-units.txt"))
	if err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(filepath.Join("testdata", "stats-initial.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, input, errPart string
	}{
		{"unit suffix", string(units), "unit suffix"},
		{"empty", "", "lacks Number of files"},
		{"missing literal data", strings.Replace(string(full), "Literal data", "Literal datum", 1), "lacks Literal data"},
		{"bad number", strings.Replace(string(full), "Matched data: 0", "Matched data: x0", 1), "bad number"},
		{"bad breakdown", strings.Replace(string(full), "reg: 2, dir", "reg: 2; dir", 1), "Number of files"},
		{"unknown breakdown", strings.Replace(string(full), "link: 1", "sock: 1", 1), "unknown breakdown"},
		{"unterminated breakdown", strings.Replace(string(full), "special: 1)", "special: 1", 1), "unterminated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseStats(tc.input)
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("ParseStats error = %v, want one containing %q", err, tc.errPart)
			}
		})
	}
}

func TestParseNumSeparators(t *testing.T) {
	cases := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"999", 999},
		{"1,234", 1234},
		{"1.234.567", 1234567},
		{"12_345", 12345},
		{" 42 ", 42},
	}
	for _, tc := range cases {
		got, err := parseNum(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseNum(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}
