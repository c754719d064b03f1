package rsynctest

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Counts is one "Number of ...: N (reg: R, dir: D, link: L, dev: V, special: S)"
// line of rsync's --stats output.
type Counts struct {
	Total, Reg, Dir, Link, Dev, Special int64
}

// Stats holds the numbers of rsync's --stats output.
type Stats struct {
	NumFiles                 Counts // "Number of files"
	CreatedFiles             Counts // "Number of created files" (protocol >= 29)
	DeletedFiles             Counts // "Number of deleted files" (protocol >= 31)
	RegularFilesTransferred  int64  // "Number of regular files transferred"
	TotalFileSize            int64  // "Total file size"
	TotalTransferredFileSize int64  // "Total transferred file size"
	LiteralData              int64  // "Literal data"
	MatchedData              int64  // "Matched data"
	FileListSize             int64  // "File list size"
	TotalBytesSent           int64  // "Total bytes sent"
	TotalBytesReceived       int64  // "Total bytes received"
	// From the closing "sent X bytes  received Y bytes ..." and "total size
	// is Z ..." lines; zero if those lines are absent.
	Sent, Received, TotalSize int64
}

// ParseStats extracts Stats from output containing rsync's --stats block,
// ignoring any other lines. Numbers may carry thousands separators (",", "."
// or "_", as the locale and --human-readable choose); unit suffixes from -hh
// are rejected because they are not exact. Every field of the required nine
// lines must be present.
func ParseStats(output string) (Stats, error) {
	var s Stats
	type field struct {
		label string
		dst   *int64
		unit  string // trailing " bytes" that follows the number
	}
	fields := []field{
		{"Number of regular files transferred", &s.RegularFilesTransferred, ""},
		{"Total file size", &s.TotalFileSize, " bytes"},
		{"Total transferred file size", &s.TotalTransferredFileSize, " bytes"},
		{"Literal data", &s.LiteralData, " bytes"},
		{"Matched data", &s.MatchedData, " bytes"},
		{"File list size", &s.FileListSize, ""},
		{"Total bytes sent", &s.TotalBytesSent, ""},
		{"Total bytes received", &s.TotalBytesReceived, ""},
	}
	counts := []struct {
		label string
		dst   *Counts
	}{
		{"Number of files", &s.NumFiles},
		{"Number of created files", &s.CreatedFiles},
		{"Number of deleted files", &s.DeletedFiles},
	}
	seen := make(map[string]bool)

	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
lines:
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		label, value, ok := strings.Cut(line, ": ")
		if ok {
			for _, c := range counts {
				if label == c.label {
					if err := parseCounts(value, c.dst); err != nil {
						return s, fmt.Errorf("stats %q: %w", line, err)
					}
					seen[label] = true
					continue lines
				}
			}
			for _, f := range fields {
				if label == f.label {
					n, err := parseNum(strings.TrimSuffix(value, f.unit))
					if err != nil {
						return s, fmt.Errorf("stats %q: %w", line, err)
					}
					*f.dst = n
					seen[label] = true
					continue lines
				}
			}
		}
		if rest, ok := strings.CutPrefix(line, "sent "); ok {
			// sent X bytes  received Y bytes  Z bytes/sec
			var sent, recv string
			if _, err := fmt.Sscanf(rest, "%s bytes received %s bytes", &sent, &recv); err == nil {
				var err1, err2 error
				s.Sent, err1 = parseNum(sent)
				s.Received, err2 = parseNum(recv)
				if err1 != nil || err2 != nil {
					return s, fmt.Errorf("stats %q: bad number", line)
				}
			}
		} else if rest, ok := strings.CutPrefix(line, "total size is "); ok {
			num, _, _ := strings.Cut(rest, " ")
			n, err := parseNum(num)
			if err != nil {
				return s, fmt.Errorf("stats %q: %w", line, err)
			}
			s.TotalSize = n
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("read stats: %w", err)
	}
	var missing []string
	if !seen["Number of files"] {
		missing = append(missing, "Number of files")
	}
	for _, f := range fields {
		if !seen[f.label] {
			missing = append(missing, f.label)
		}
	}
	if len(missing) > 0 {
		return s, fmt.Errorf("stats output lacks %s", strings.Join(missing, ", "))
	}
	return s, nil
}

// parseCounts parses "12 (reg: 9, dir: 2, link: 1)" or a bare "0".
func parseCounts(v string, c *Counts) error {
	*c = Counts{}
	total, detail, hasDetail := strings.Cut(v, " (")
	n, err := parseNum(total)
	if err != nil {
		return err
	}
	c.Total = n
	if !hasDetail {
		return nil
	}
	detail, ok := strings.CutSuffix(detail, ")")
	if !ok {
		return fmt.Errorf("unterminated breakdown %q", v)
	}
	for _, part := range strings.Split(detail, ", ") {
		name, num, ok := strings.Cut(part, ": ")
		if !ok {
			return fmt.Errorf("bad breakdown item %q", part)
		}
		n, err := parseNum(num)
		if err != nil {
			return err
		}
		switch name {
		case "reg":
			c.Reg = n
		case "dir":
			c.Dir = n
		case "link":
			c.Link = n
		case "dev":
			c.Dev = n
		case "special":
			c.Special = n
		default:
			return fmt.Errorf("unknown breakdown item %q", part)
		}
	}
	return nil
}

// parseNum parses an integer that may contain thousands separators.
func parseNum(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, fmt.Errorf("empty number")
	}
	if last := v[len(v)-1]; strings.IndexByte("KMGTP", last) >= 0 {
		return 0, fmt.Errorf("number %q has a unit suffix (human-readable output is not exact)", v)
	}
	digits := strings.Map(func(r rune) rune {
		if r == ',' || r == '.' || r == '_' {
			return -1
		}
		return r
	}, v)
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q: %w", v, err)
	}
	return n, nil
}
