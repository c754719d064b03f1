// Package report prints what rsync prints about a transfer: the --stats block
// and the closing "sent ... received ..." summary, with numbers formatted the
// way rsync formats them for each --human-readable level.
package report

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Stats holds the counters of rsync's struct stats (rsync.h). The byte
// counters are from the point of view of the process that prints them.
type Stats struct {
	TotalSize            int64 // sum of the sizes of all files in the list
	TotalTransferredSize int64 // sum of the sizes of the files that were sent
	TotalWritten         int64 // bytes written to the peer
	TotalRead            int64 // bytes read from the peer
	LiteralData          int64 // delta bytes sent as literal data
	MatchedData          int64 // delta bytes reproduced from the basis file
	FlistBuildTime       int64 // milliseconds spent building the file list
	FlistXferTime        int64 // milliseconds spent sending the file list
	FlistSize            int64 // bytes of the encoded file list

	// Files in the list: NumFiles counts every entry, the others the
	// entries of their kind among them.
	NumFiles, NumDirs, NumSymlinks, NumDevices, NumSpecials int64
	// Entries created at the destination, NumFiles-style.
	CreatedFiles, CreatedDirs, CreatedSymlinks, CreatedDevices, CreatedSpecials int64
	// Entries deleted at the destination, NumFiles-style.
	DeletedFiles, DeletedDirs, DeletedSymlinks, DeletedDevices, DeletedSpecials int64

	XferredFiles int64 // regular files whose data was transferred
}

// SummaryOptions chooses which summary lines WriteSummary prints and how.
type SummaryOptions struct {
	// Level is rsync's STATS info level: 0 prints nothing, 1 (-v) the
	// closing two lines, 2 (--stats) the full block before them.
	Level int
	// Protocol is the negotiated protocol version; the created-files line
	// needs 29 and the deleted-files line 31.
	Protocol int
	// Human is the --human-readable level (see HumanOff and friends);
	// rsync's default is HumanCommas, not the zero value.
	Human int
	// DryRun appends " (DRY RUN)" to the last line.
	DryRun bool
	// BatchOnly (--only-write-batch) appends " (BATCH ONLY)" instead.
	BatchOnly bool
	// Start and End bound the run for the bytes/sec figure; rsync takes
	// both as whole seconds. A zero time prints "UNKNOWN".
	Start, End time.Time
}

// WriteSummary writes rsync's end-of-run statistics for st to w, byte for
// byte as rsync 3.5.0's output_summary does. All of it is rsync's stdout
// (FINFO and FCLIENT), so a --quiet run should not call it.
//
// rsync: main.c output_summary
func WriteSummary(w io.Writer, st *Stats, o SummaryOptions) error {
	var b strings.Builder
	h := o.Human
	if o.Level >= 2 {
		b.WriteString("\n")
		line(&b, FormatFileCounts("Number of files", st.NumFiles, st.NumDirs,
			st.NumSymlinks, st.NumDevices, st.NumSpecials, h))
		if o.Protocol >= 29 {
			line(&b, FormatFileCounts("Number of created files", st.CreatedFiles,
				st.CreatedDirs, st.CreatedSymlinks, st.CreatedDevices, st.CreatedSpecials, h))
		}
		if o.Protocol >= 31 {
			line(&b, FormatFileCounts("Number of deleted files", st.DeletedFiles,
				st.DeletedDirs, st.DeletedSymlinks, st.DeletedDevices, st.DeletedSpecials, h))
		}
		line(&b, "Number of regular files transferred: ", CommaNum(st.XferredFiles, h))
		line(&b, "Total file size: ", HumanNum(st.TotalSize, h), " bytes")
		line(&b, "Total transferred file size: ", HumanNum(st.TotalTransferredSize, h), " bytes")
		line(&b, "Literal data: ", HumanNum(st.LiteralData, h), " bytes")
		line(&b, "Matched data: ", HumanNum(st.MatchedData, h), " bytes")
		line(&b, "File list size: ", HumanNum(st.FlistSize, h))
		if st.FlistBuildTime != 0 {
			line(&b, "File list generation time: ",
				CommaDnum(float64(st.FlistBuildTime)/1000, 3, h), " seconds")
			line(&b, "File list transfer time: ",
				CommaDnum(float64(st.FlistXferTime)/1000, 3, h), " seconds")
		}
		line(&b, "Total bytes sent: ", HumanNum(st.TotalWritten, h))
		line(&b, "Total bytes received: ", HumanNum(st.TotalRead, h))
	}
	if o.Level >= 1 {
		b.WriteString("\n")
		line(&b, "sent ", HumanNum(st.TotalWritten, h), " bytes  received ",
			HumanNum(st.TotalRead, h), " bytes  ",
			BytesPerSec(st.TotalWritten+st.TotalRead, o.Start, o.End, h), " bytes/sec")
		suffix := ""
		if o.BatchOnly {
			suffix = " (BATCH ONLY)"
		} else if o.DryRun {
			suffix = " (DRY RUN)"
		}
		line(&b, "total size is ", HumanNum(st.TotalSize, h), "  speedup is ",
			CommaDnum(Speedup(st.TotalSize, st.TotalWritten+st.TotalRead), 2, h), suffix)
	}
	if b.Len() == 0 {
		return nil
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// line appends the concatenation of parts and a newline to b.
func line(b *strings.Builder, parts ...string) {
	for _, p := range parts {
		b.WriteString(p)
	}
	b.WriteByte('\n')
}

// BytesPerSec formats the summary's transfer rate: bytes over the whole
// seconds between start and end plus half a second, at the given -h level,
// or "UNKNOWN" when either time is zero.
//
// rsync: main.c bytes_per_sec_human_dnum
func BytesPerSec(bytes int64, start, end time.Time, human int) string {
	if start.IsZero() || end.IsZero() {
		return "UNKNOWN"
	}
	elapsed := end.Unix() - start.Unix()
	return HumanDnum(float64(bytes)/(0.5+float64(elapsed)), 2, human)
}

// Speedup is rsync's speedup figure: the total file size over the bytes
// that crossed the wire. Like rsync it divides by zero to an infinity or
// NaN when nothing crossed.
func Speedup(totalSize, wireBytes int64) float64 {
	return float64(totalSize) / float64(wireBytes)
}

// FormatFileCounts returns one "Number of files: 12 (reg: 9, dir: 2,
// link: 1)" line, without its newline. total counts every entry; the
// regular-file count is what remains after the other kinds, and kinds with a
// zero count are left out, as is the whole parenthesis when total is zero.
//
// rsync: main.c output_itemized_counts
func FormatFileCounts(prefix string, total, dirs, links, devices, specials int64, human int) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(": ")
	b.WriteString(CommaNum(total, human))
	if total != 0 {
		counts := [5]int64{total - (dirs + links + devices + specials), dirs, links, devices, specials}
		labels := [5]string{"reg", "dir", "link", "dev", "special"}
		pre := " ("
		for j, c := range counts {
			if c == 0 {
				continue
			}
			b.WriteString(pre)
			b.WriteString(labels[j])
			b.WriteString(": ")
			b.WriteString(CommaNum(c, human))
			pre = ", "
		}
		b.WriteByte(')')
	}
	return b.String()
}
